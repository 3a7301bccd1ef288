/**
 * Path tests through child runs and failing branches: `testPaths` walks a map
 * body's own paths and a `workflow` child's own paths (each child definition
 * with the input a run of the parent gave it), counts them in the parent's
 * path worst case, and covers the routes a failed branch of a parallel step
 * takes (`collect`, and `fail_fast` with `onError`).
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadDefinition, loadDefinitionFromObject } from '../../src/definition/load.js';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { resolveModel } from '../../src/model/client.js';
import { testPaths } from '../../src/observe/paths.js';
import { defineTool } from '../../src/tools/define.js';

const note = defineTool({ name: 'note', description: 'Writes a note on a line', input: z.object({ text: z.string().max(200) }), run: (input) => input });
const echo = defineTool({ name: 'echo', description: 'Echoes', input: z.object({ v: z.unknown() }), run: (input) => input });

let emu: Emulator;
beforeAll(async () => {
  emu = await startEmulator({ seed: 1 });
});
afterAll(async () => {
  await emu.close();
});
const model = () => resolveModel({ baseURL: emu.url, apiKey: 'x', maxRetries: 0 });
const tools = (list: Array<typeof note | typeof echo>) => new Map(list.map((t) => [t.name, t] as const));

describe('path tests walk child runs', () => {
  it("walks a map body's own paths and counts them per item in the parent's path worst case", async () => {
    const { workflow } = loadDefinitionFromObject(
      {
        id: 'mapped',
        input: { type: 'object', properties: { lines: { type: 'array', maxItems: 3, items: { type: 'string', maxLength: 20 } } } },
        steps: {
          each: {
            map: {
              items: '{% $input.lines %}',
              steps: {
                write: { claude: { tool: 'note', prompt: 'Note the line.', context: { line: '{% $input.item %}' }, maxTokens: 100 }, retry: { maxAttempts: 1 }, onError: 'skipped' },
                ok: { final: true, output: '{% $steps.write.output %}' },
                skipped: { final: true, output: null },
              },
            },
            next: 'done',
          },
          done: { final: true },
        },
      },
      [note],
      'mapped',
    );
    const report = await testPaths(workflow, { input: { lines: ['a', 'b'] }, tools: tools([note]), model: model() });
    expect(report.findings).toEqual([]);
    expect(report.children.map((c) => c.step)).toEqual(['each']);
    const body = report.children[0]!.report;
    expect(body.paths.map((p) => p.steps.join('>')).sort()).toEqual(['write>ok', 'write>skipped']);
    const bodyWorst = Math.max(...body.paths.map((p) => p.worstCaseTokens));
    expect(bodyWorst).toBeGreaterThan(100);
    // The map's worst case on the parent's path: the body's worst path for each of maxItems (3) items.
    expect(report.paths).toHaveLength(1);
    expect(report.paths[0]!.worstCaseTokens).toBe(3 * bodyWorst);
    expect(report.paths[0]!.tokens).toBeGreaterThan(0);
  });

  it("walks a workflow child's own paths with the input the parent gave it", async () => {
    const definition = await loadDefinition('definitions/invoice-intake.yaml');
    const input = JSON.parse(readFileSync('definitions/invoice-intake.input.json', 'utf8')) as unknown;
    const report = await testPaths(definition.workflow, { input, tools: definition.tools, model: model(), source: definition.source });
    expect(report.findings).toEqual([]);
    expect(report.children.map((c) => c.step)).toEqual(['approval']);
    const child = report.children[0]!.report;
    expect(child.workflow).toBe('invoice-approval');
    expect(child.paths).toHaveLength(7);
    expect(child.paths.every((p) => p.status === 'done')).toBe(true);
    // The path through the step's error route really takes it: the step fails (its child is not started).
    const rejected = report.paths.find((p) => p.decisions.some((d) => d.step === 'approval' && d.take === 'error'))!;
    expect(rejected.trail).toEqual([
      { step: 'approval', status: 'failed' },
      { step: 'rejected', status: 'done' },
    ]);
    // Its worst case still counts the slice a child that failed may have spent.
    expect(rejected).toMatchObject({ tokens: 0, worstCaseTokens: 20_000 });
  });
});

describe('path tests cover failing branches', () => {
  const parallel = (onBranchError: 'collect' | 'fail_fast') =>
    loadDefinitionFromObject(
      {
        id: `branches-${onBranchError}`,
        steps: {
          checks: {
            parallel: {
              onBranchError,
              branches: { a: { steps: { a1: { tool: 'echo', with: { v: 'a' } } } }, b: { steps: { b1: { tool: 'echo', with: { v: 'b' } } } } },
            },
            next: 'route',
            ...(onBranchError === 'fail_fast' ? { onError: 'recover' } : {}),
          },
          route: { choice: [{ when: '{% $exists($steps.checks.output.a.error) %}', next: 'recover' }, { next: 'done' }] },
          recover: { final: true, output: 'recovered' },
          done: { final: true },
        },
      },
      [echo],
      'branches',
    ).workflow;

  it('collect: a failed branch hands on its error and the run goes on by next', async () => {
    const report = await testPaths(parallel('collect'), { input: {}, tools: tools([echo]), model: model() });
    expect(report.findings).toEqual([]);
    const failedA = report.paths.filter((p) => p.decisions.some((d) => d.step === 'a1' && d.take === 'error'));
    expect(failedA.length).toBeGreaterThan(0);
    expect(failedA.every((p) => p.status === 'done')).toBe(true);
    expect(failedA[0]!.decisions).toEqual(expect.arrayContaining([{ step: 'checks', take: 'collect a' }]));
    // Each route once, whatever order the branches end in.
    const keys = report.paths.map((p) => JSON.stringify(p.decisions.map((d) => `${d.step}:${d.take}`).sort()));
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('fail_fast: a failed branch fails the step and the run takes onError', async () => {
    const report = await testPaths(parallel('fail_fast'), { input: {}, tools: tools([echo]), model: model() });
    expect(report.findings).toEqual([]);
    const failed = report.paths.find((p) => p.decisions.some((d) => d.step === 'checks' && d.take === 'fail_fast b'));
    expect(failed).toMatchObject({ status: 'done' });
    expect(failed!.steps[failed!.steps.length - 1]).toBe('recover');
    expect(failed!.decisions).toEqual(expect.arrayContaining([{ step: 'b1', take: 'error' }]));
  });

  it('a model step in a branch is failed by refusing its own call, not its sibling\'s', async () => {
    const { workflow } = loadDefinitionFromObject(
      {
        id: 'branch-model',
        steps: {
          checks: {
            parallel: {
              onBranchError: 'collect',
              branches: {
                a: { steps: { a1: { claude: { tool: 'note', prompt: 'Note it.', maxTokens: 100 }, retry: { maxAttempts: 1 } } } },
                b: { steps: { b1: { tool: 'echo', with: { v: 'b' } } } },
              },
            },
            next: 'done',
          },
          done: { final: true, output: '{% $steps.checks.output %}' },
        },
      },
      [note, echo],
      'branch-model',
    );
    const report = await testPaths(workflow, { input: {}, tools: tools([note, echo]), model: model() });
    expect(report.findings).toEqual([]);
    const failed = report.paths.find((p) => p.decisions.some((d) => d.step === 'a1' && d.take === 'error'))!;
    const passed = report.paths.find((p) => p.decisions.some((d) => d.step === 'a1' && d.take === 'done') && !p.decisions.some((d) => d.take === 'error'))!;
    expect(passed.tokens).toBeGreaterThan(0);
    expect(failed.status).toBe('done');
    expect(failed.tokens).toBe(0); // the refused call used nothing
    // A path that fails the sibling tool step "b1" leaves "a1"'s call alone, though "b1" runs while it is made.
    const sibling = report.paths.find((p) => p.decisions.some((d) => d.step === 'b1' && d.take === 'error') && p.decisions.some((d) => d.step === 'a1' && d.take === 'done'))!;
    expect(sibling.trail).toEqual(expect.arrayContaining([{ step: 'a1', status: 'done' }, { step: 'b1', status: 'failed' }]));
    expect(sibling.tokens).toBeGreaterThan(0);
  });
});

describe("a path's forced decisions are its own run's, not its child runs'", () => {
  const fixture = (name: string) => `test/observe/fixtures/child-decisions/${name}`;
  const walk = async (name: string, input: unknown) => {
    const definition = await loadDefinition(fixture(name));
    return testPaths(definition.workflow, { input, tools: definition.tools, model: model(), source: definition.source });
  };

  it('a choice the parent path forces is not forced in a child with a choice of the same id', async () => {
    const report = await walk('outer.yaml', { skip: false });
    // Given v 1, the child takes branch 0 of its own "pick" in every real run, whatever branch the parent's took.
    expect(report.paths.map((p) => [p.steps.join('>'), p.status])).toEqual(
      expect.arrayContaining([
        ['pick>skip', 'done'],
        ['pick>sub>done', 'done'],
      ]),
    );
    // The child's own walk forces its branch 1, whose tool always fails: reported as the child's, not the parent path's.
    expect(report.findings.map((f) => f.message)).toEqual([expect.stringMatching(/^in the child runs of "sub" \(inner\): path pick \[branch 1\] → broken → fine failed: /)]);
  });

  it('a self-recursion bounded by a choice passes: each nested run takes its own branch', async () => {
    const report = await walk('countdown.yaml', { n: 2 });
    expect(report.findings).toEqual([]);
    expect(report.paths.map((p) => [p.steps.join('>'), p.status]).sort()).toEqual([
      ['check>again>up', 'done'],
      ['check>bottom', 'done'],
    ]);
    expect(report.children[0]!.report.paths.every((p) => p.status === 'done')).toBe(true);
  });

  it('a child that fails on its own decisions still fails the path through the step that starts it', async () => {
    const report = await walk('breaks.yaml', {});
    expect(report.paths).toHaveLength(1);
    expect(report.paths[0]).toMatchObject({ status: 'failed', error: expect.stringContaining('flaky failed for inner-default-branch') });
    expect(report.findings.map((f) => f.message)).toContainEqual(expect.stringMatching(/^path sub → done failed: the child run .*~sub\.1 \(inner\) failed at broken: /));
  });

  // A map body's steps run with the parent's tools and model: a forced error of the parent's step "x" must not reach the body's "x".
  const mapped = (x: Record<string, unknown>) =>
    loadDefinitionFromObject(
      {
        id: 'same-ids',
        steps: {
          x: { ...x, retry: { maxAttempts: 1 }, next: 'each', onError: 'each' },
          each: {
            map: { items: '{% [1, 2] %}', steps: { x: { ...x, retry: { maxAttempts: 1 }, next: 'ok' }, ok: { final: true, output: '{% $steps.x.output %}' } } },
            next: 'done',
          },
          done: { final: true, output: '{% $steps.each.output %}' },
        },
      },
      [note, echo],
      'same-ids',
    ).workflow;

  it("a tool step's forced error route does not fail a map item's step of the same id", async () => {
    const report = await testPaths(mapped({ tool: 'echo', with: { v: 1 } }), { input: {}, tools: tools([note, echo]), model: model() });
    expect(report.findings).toEqual([]);
    const failed = report.paths.find((p) => p.decisions.some((d) => d.step === 'x' && d.take === 'error'));
    expect(failed).toMatchObject({ status: 'done' });
  });

  it("a model step's forced error route does not refuse a map item's model call of the same step id", async () => {
    const report = await testPaths(mapped({ claude: { tool: 'note', prompt: 'Note it.', maxTokens: 100 } }), { input: {}, tools: tools([note, echo]), model: model() });
    expect(report.findings).toEqual([]);
    const failed = report.paths.find((p) => p.decisions.some((d) => d.step === 'x' && d.take === 'error'))!;
    const passed = report.paths.find((p) => p.decisions.some((d) => d.step === 'x' && d.take === 'done'))!;
    expect(failed.status).toBe('done');
    // The items' calls were answered; the parent's own "x" was refused (it used nothing).
    expect(failed.tokens).toBeGreaterThan(0);
    expect(passed.tokens).toBeGreaterThan(failed.tokens);
  });
});

describe("a step that starts child runs takes its error route on a path that forces it", () => {
  it("a `workflow` step fails without starting its child, and the run takes onError", async () => {
    const definition = await loadDefinition('test/observe/fixtures/child-error/parent.yaml');
    const report = await testPaths(definition.workflow, { input: { text: 'my invoice is wrong' }, tools: definition.tools, model: model(), source: definition.source });
    expect(report.findings).toEqual([]);
    const failed = report.paths.find((p) => p.decisions.some((d) => d.step === 'sub' && d.take === 'error'))!;
    const passed = report.paths.find((p) => p.decisions.some((d) => d.step === 'sub' && d.take === 'done'))!;
    expect(failed).toMatchObject({ status: 'done', steps: ['sub', 'recovered'], divergence: null });
    // The run went the path's way: the step failed (its child never ran: no model call) and onError was taken.
    expect(failed.trail).toEqual([
      { step: 'sub', status: 'failed' },
      { step: 'recovered', status: 'done' },
    ]);
    expect(failed.tokens).toBe(0);
    expect(passed.tokens).toBeGreaterThan(0);
    // The child's own paths are still walked, from the run that started it.
    expect(report.children.map((c) => c.step)).toEqual(['sub']);
  });

  it('a `map` step fails without starting its items, and the run takes onError', async () => {
    const { workflow } = loadDefinitionFromObject(
      {
        id: 'map-error',
        steps: {
          each: {
            map: { items: '{% [1, 2] %}', steps: { write: { claude: { tool: 'note', prompt: 'Note it.', maxTokens: 100 }, retry: { maxAttempts: 1 }, next: 'ok' }, ok: { final: true } } },
            onError: 'recovered',
            next: 'done',
          },
          done: { final: true, output: '{% $steps.each.output %}' },
          recovered: { final: true, output: 'recovered' },
        },
      },
      [note],
      'map-error',
    );
    const report = await testPaths(workflow, { input: {}, tools: tools([note]), model: model() });
    expect(report.findings).toEqual([]);
    const failed = report.paths.find((p) => p.decisions.some((d) => d.step === 'each' && d.take === 'error'))!;
    expect(failed).toMatchObject({ status: 'done', divergence: null, tokens: 0 });
    expect(failed.trail).toEqual([
      { step: 'each', status: 'failed' },
      { step: 'recovered', status: 'done' },
    ]);
  });
});
