/**
 * `review`, `onReject` and `wait.show` at load time and in the tools that read
 * a definition: checks, the diagram, the path tests (on the emulator, through
 * the real engine) and the worst case, which review does not change.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadDefinitionFromObject } from '../../src/definition/load.js';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { toolMap } from '../../src/engine/runtime.js';
import { resolveModel } from '../../src/model/client.js';
import { diagram } from '../../src/observe/diagram.js';
import { testPaths } from '../../src/observe/paths.js';
import { worstCaseOf } from '../../src/cli/worst-case.js';
import { defineTool } from '../../src/tools/define.js';
import { issuesOf, yaml } from '../definition/helpers.js';
import { MODEL_TIMEOUT_MS } from '../budgets.js';

const pay = defineTool({ name: 'pay_vendor', description: 'Pay a vendor', input: z.object({ vendor: z.string(), amount: z.number() }), run: (i) => ({ paid: i.amount }) });

const steps = (review: unknown, extra: Record<string, unknown> = {}) => ({
  id: 'payment',
  steps: {
    pay: { claude: { tool: 'pay_vendor', prompt: 'Pay the vendor.' }, ...(review === undefined ? {} : { review }), next: 'done', onError: 'manual', ...extra },
    manual: { final: true, output: 'manual' },
    done: { final: true },
  },
});

describe('review in definitions', () => {
  it('checks onReject names a step, needs a review, and checks review.when like other expressions', () => {
    expect(issuesOf(yaml('id: flow', 'steps:', '  pay:', '    claude: { tool: t, prompt: P }', '    review: true', '    onReject: nowhere', '  done: { final: true }')).errors).toEqual([
      expect.stringMatching(/^flow\.yaml:6:15: steps\.pay\.onReject: .*"nowhere"/),
    ]);
    expect(issuesOf(yaml('id: flow', 'steps:', '  pay:', '    claude: { tool: t, prompt: P }', '    onReject: done', '  done: { final: true }')).errors).toEqual([
      expect.stringMatching(/^flow\.yaml:5:\d+: steps\.pay\.onReject: onReject needs a review/),
    ]);
    expect(issuesOf(yaml('id: flow', 'steps:', '  pay:', '    claude: { tool: t, prompt: P }', '    review: { when: "{% $proposed.amount > %}" }', '  done: { final: true }')).errors).toEqual([
      expect.stringMatching(/^flow\.yaml:5:\d+: steps\.pay\.review\.when: /),
    ]);
    expect(issuesOf(yaml('id: flow', 'steps:', '  pay:', '    claude: { tool: t, prompt: P }', '    review: { when: "{% $proposed.amount > 100 %}" }', '  done: { final: true }')).errors).toEqual([]);
    expect(issuesOf(yaml('id: flow', 'steps:', '  hold:', '    wait: { on: { OK: done }, show: { total: "{% $input.total + %}" } }', '  done: { final: true }')).errors).toEqual([
      expect.stringMatching(/^flow\.yaml:4:\d+: steps\.hold\.wait\.show\.total: /),
    ]);
  });

  it('draws the review routes and leaves the worst case as it was', async () => {
    const reviewed = loadDefinitionFromObject(steps(true, { onReject: 'manual' }), [pay], 'payment');
    const plain = loadDefinitionFromObject(steps(undefined), [pay], 'payment');
    const mermaid = await diagram(reviewed.workflow, 'mermaid');
    expect(mermaid).toMatch(/pay --> manual : .*REJECT/);
    expect(mermaid).toContain('Claude fills pay_vendor, reviewed');
    expect(worstCaseOf(reviewed)).toEqual(worstCaseOf(plain));
  });
});

describe('path tests of a reviewed step', () => {
  let emu: Emulator;
  beforeAll(async () => {
    emu = await startEmulator({ seed: 3 });
  });
  afterAll(async () => {
    await emu.close();
  });

  it('walk the approve, reject and error routes through the real engine with no findings', async () => {
    const reviewed = loadDefinitionFromObject(steps(true, { onReject: 'manual' }), [pay], 'payment');
    const report = await testPaths(reviewed.workflow, {
      input: {},
      tools: toolMap(reviewed.tools),
      model: resolveModel({ baseURL: emu.url, apiKey: 'x', maxRetries: 0, timeoutMs: MODEL_TIMEOUT_MS }),
    });
    expect(report.findings).toEqual([]);
    expect(report.paths.map((p) => [p.steps.join('>'), p.decisions.map((d) => d.take).join(','), p.status])).toEqual(
      expect.arrayContaining([
        ['pay>done', 'done', 'done'],
        ['pay>manual', 'REJECT', 'done'],
        ['pay>manual', 'error', 'done'],
      ]),
    );
  });
});
