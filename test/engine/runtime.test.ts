import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadDefinitionFromObject } from '../../src/definition/load.js';
import { COMPILED_MACHINES_HELD, buildRuntime, storedDefinition, toolMap } from '../../src/engine/runtime.js';
import { defineTool } from '../../src/tools/define.js';

/** A one-step tool workflow whose content (and so whose version) differs by `n`. */
function definitionOf(n: number) {
  const tool = defineTool({ name: 'noop', description: 'does nothing', input: z.object({}), output: z.object({ ok: z.boolean() }), run: async () => ({ ok: true }) });
  const loaded = loadDefinitionFromObject({ id: `wf-${n}`, steps: { only: { tool: 'noop' }, done: { final: true } } }, [tool], `wf-${n}`);
  return { definition: storedDefinition(loaded), version: loaded.hash, tools: toolMap(loaded.tools) };
}

describe('compiled machines', () => {
  it('are shared by runtimes of one version whatever their tools, and not across versions', () => {
    const a = definitionOf(1);
    const other = toolMap([defineTool({ name: 'noop', description: 'another', input: z.object({}), output: z.object({}), run: async () => ({}) })]);
    const first = buildRuntime(a.definition, a.version, a.tools);
    const second = buildRuntime(a.definition, a.version, other);
    expect(second.machine).toBe(first.machine);
    expect(second.tools).toBe(other);
    expect(first.tools).toBe(a.tools);
    const b = definitionOf(2);
    expect(b.version).not.toBe(a.version);
    expect(buildRuntime(b.definition, b.version, b.tools).machine).not.toBe(first.machine);
  });

  it('are held for a bounded number of versions, the least recently used let go first', () => {
    const kept = definitionOf(10_000);
    const dropped = definitionOf(10_001);
    const keptMachine = buildRuntime(kept.definition, kept.version, kept.tools).machine;
    const droppedMachine = buildRuntime(dropped.definition, dropped.version, dropped.tools).machine;
    for (let n = 0; n < COMPILED_MACHINES_HELD - 1; n++) {
      // `kept` is used between the others, so it stays among the most recent.
      expect(buildRuntime(kept.definition, kept.version, kept.tools).machine).toBe(keptMachine);
      const d = definitionOf(20_000 + n);
      buildRuntime(d.definition, d.version, d.tools);
    }
    expect(buildRuntime(kept.definition, kept.version, kept.tools).machine).toBe(keptMachine);
    const again = buildRuntime(dropped.definition, dropped.version, dropped.tools).machine;
    expect(again).not.toBe(droppedMachine);
    expect(again.config.initial).toBe(droppedMachine.config.initial);
  });
});
