/**
 * A step kind added in one file (./fixtures/shout-kind.ts) through the public
 * registry works in every layer: validation and checks, the diagram, the path
 * tests (`stepwise test`) and a real run on a SQLite store.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createEngine, createSqliteStore, DefinitionError, loadDefinitionFromObject, registerStepKind, resolveModel, stepKindList } from '../../src/index.js';
import { diagram, stepGraph } from '../../src/observe/diagram.js';
import { testPaths } from '../../src/observe/paths.js';
import { shoutKind, shouted } from './fixtures/shout-kind.js';

registerStepKind(shoutKind);

const loud = {
  id: 'loud',
  steps: {
    greet: { shout: { text: '{% "hello " & $input.name %}' }, next: 'route' },
    route: {
      choice: [{ when: "{% $steps.greet.output.text = 'HELLO ADA' %}", next: 'done' }, { next: 'other' }],
    },
    done: { final: true, output: '{% $steps.greet.output %}' },
    other: { final: true },
  },
};

const dir = mkdtempSync(join(tmpdir(), 'stepwise-kind-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a step kind added in one file', () => {
  it('is in the registry, after the built-in kinds', () => {
    expect(stepKindList().map((k) => k.name)).toEqual(['claude', 'analyze', 'tool', 'choice', 'wait', 'final', 'parallel', 'map', 'workflow', 'shout']);
  });

  it('validates: its schema, its expressions and its routes are checked like any step', () => {
    expect(loadDefinitionFromObject(loud, [], 'loud').workflow.steps['greet']).toEqual(loud.steps.greet);
    const issues = (data: unknown) => {
      try {
        loadDefinitionFromObject(data, [], 'bad');
        return [];
      } catch (error) {
        return (error as DefinitionError).issues.map((i) => `${i.path}: ${i.message}`);
      }
    };
    const missing = issues({ ...loud, steps: { ...loud.steps, greet: { shout: {}, next: 'route' } } });
    expect(missing.join('\n')).toMatch(/steps\.greet\.shout\.text/);
    const unknownKey = issues({ ...loud, steps: { ...loud.steps, greet: { shout: { text: 'x', volume: 11 }, next: 'route' } } });
    expect(unknownKey.join('\n')).toMatch(/volume/);
    const badExpression = issues({ ...loud, steps: { ...loud.steps, greet: { shout: { text: '{% $input.name & %}' }, next: 'route' } } });
    expect(badExpression.join('\n')).toMatch(/steps\.greet\.shout\.text/);
    const badRoute = issues({ ...loud, steps: { ...loud.steps, greet: { shout: { text: 'x' }, next: 'nowhere' } } });
    expect(badRoute.join('\n')).toMatch(/steps\.greet\.next: no step named "nowhere"/);
    // A step of no kind lists every registered kind, the new one included.
    expect(issues({ ...loud, steps: { ...loud.steps, greet: { yell: {} } } }).join('\n')).toContain('tool, choice, wait, final, parallel, map, workflow, shout');
  });

  it('is drawn in the diagram with its kind and label', async () => {
    const graph = stepGraph(loadDefinitionFromObject(loud, [], 'loud').workflow);
    expect(graph.nodes.find((n) => n.id === 'greet')).toEqual({ id: 'greet', kind: 'shout', detail: 'shouts' });
    expect(graph.edges).toEqual(expect.arrayContaining([expect.objectContaining({ from: 'greet', to: 'route' })]));
    const mermaid = await diagram(loadDefinitionFromObject(loud, [], 'loud').workflow, 'mermaid');
    expect(mermaid).toContain('greet');
    expect(mermaid).toContain('shouts');
  });

  it('is walked by the path tests: every route runs to its end', async () => {
    const workflow = loadDefinitionFromObject(loud, [], 'loud').workflow;
    const report = await testPaths(workflow, { input: { name: 'Ada' }, tools: new Map(), model: resolveModel({ baseURL: 'http://127.0.0.1:9', apiKey: 'unused' }) });
    expect(report.findings).toEqual([]);
    expect([...report.reached].sort()).toEqual(['done', 'greet', 'other', 'route']);
    expect(report.paths.map((p) => p.steps.join('>')).sort()).toEqual(['greet>route>done', 'greet>route>other']);
    expect(report.paths.every((p) => p.status === 'done')).toBe(true);
  });

  it('runs for real: the engine drives it through its handler, journals it and stores its output', async () => {
    const store = createSqliteStore({ path: join(dir, 'runs.db') });
    const engine = createEngine({ store, model: { baseURL: 'http://127.0.0.1:9', apiKey: 'unused' } });
    const before = shouted.length;
    const run = await engine.start(loadDefinitionFromObject(loud, [], 'loud'), { input: { name: 'Ada' } });
    expect(run.status).toBe('done');
    expect(run.output).toEqual({ text: 'HELLO ADA' });
    expect(run.steps.map((s) => `${s.id}:${s.status}`)).toEqual(['greet:done', 'route:done', 'done:done']);
    expect(shouted.slice(before)).toEqual(['HELLO ADA']);
    const journal = await store.journal(run.runId);
    expect(journal.filter((e) => e.step === 'greet').map((e) => e.event)).toEqual(['started', 'completed']);
    await store.close();
  });
});
