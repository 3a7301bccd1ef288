/**
 * The `parallel` step kind through the real engine (driver, machine, SQLite
 * store, manual clock): outputs gathered under branch names, fail_fast aborting
 * running siblings through their signals, collect, waits in two branches
 * resumed one by one, retries inside a branch, and the definition checks.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadDefinitionFromObject } from '../../src/definition/load.js';
import { ManualClock } from '../../src/engine/clock.js';
import { createEngine } from '../../src/engine/engine.js';
import { createSqliteStore } from '../../src/store/sqlite.js';
import { defineTool } from '../../src/tools/define.js';
import { DefinitionError } from '../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'stepwise-parallel-step-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const noModel = { baseURL: 'http://127.0.0.1:9', apiKey: 'unused', maxRetries: 0 };
let dbs = 0;
const engineOn = () => createEngine({ store: createSqliteStore({ path: join(dir, `runs-${++dbs}.db`) }), model: noModel, clock: new ManualClock({ autoAdvance: true }) });

/** Tools: `echo` returns its input; `fail` always fails (not retryable); `flaky` fails its first call; `hang` runs until aborted. */
function tools() {
  const calls: string[] = [];
  const aborted: string[] = [];
  let flakyCalls = 0;
  let hangStarted!: () => void;
  const hanging = new Promise<void>((resolve) => (hangStarted = resolve));
  const echo = defineTool({ name: 'echo', description: 'Echo', input: z.object({ v: z.unknown() }), run: ({ v }) => (calls.push(String(v)), { v }) });
  const fail = defineTool({
    name: 'fail',
    description: 'Fails',
    input: z.object({}),
    run: () => {
      calls.push('fail');
      throw Object.assign(new Error('vendor registry down'), { retryable: false });
    },
  });
  const flaky = defineTool({
    name: 'flaky',
    description: 'Fails once',
    input: z.object({}),
    run: () => {
      flakyCalls++;
      if (flakyCalls === 1) throw new Error('blip');
      return { ok: true };
    },
  });
  const hang = defineTool({
    name: 'hang',
    description: 'Runs until aborted',
    input: z.object({ name: z.string() }),
    run: ({ name }, { signal }) =>
      new Promise((_resolve, reject) => {
        hangStarted();
        signal.addEventListener('abort', () => (aborted.push(name), reject(new Error('aborted'))), { once: true });
      }),
  });
  return { list: [echo, fail, flaky, hang], calls, aborted, hanging, flakyCalls: () => flakyCalls };
}

describe('parallel step', () => {
  it('runs every branch, gathers outputs under the branch names, and goes on by next', async () => {
    const t = tools();
    const definition = loadDefinitionFromObject(
      {
        id: 'gather',
        steps: {
          checks: {
            parallel: {
              branches: {
                vendor: { steps: { v1: { tool: 'echo', with: { v: 'v1' } }, v2: { tool: 'echo', with: { v: '{% $steps.v1.output.v & "+v2" %}' } } } },
                budget: { steps: { b1: { tool: 'echo', with: { v: 'b1' } } } },
              },
            },
            next: 'done',
          },
          done: { final: true, output: '{% $steps.checks.output %}' },
        },
      },
      t.list,
      'gather',
    );
    const engine = engineOn();
    const run = await engine.start(definition, { input: {} });
    expect(run.status).toBe('done');
    expect(run.output).toEqual({ vendor: { v: 'v1+v2' }, budget: { v: 'b1' } });
    expect(run.steps.map((s) => `${s.id}:${s.status}`).sort()).toEqual(['b1:done', 'checks:done', 'done:done', 'v1:done', 'v2:done']);
    expect(t.calls.sort()).toEqual(['b1', 'v1', 'v1+v2']);
    // The parallel step is journaled like a work step: started when its branches start, completed with its output.
    const journal = await engine.journal(run.runId);
    const own = journal.filter((e) => e.step === 'checks').map((e) => [e.event, e.attempt]);
    expect(own).toEqual([['started', 1], ['completed', 1]]);
    expect(journal.find((e) => e.step === 'checks' && e.event === 'completed')?.output).toEqual({ vendor: { v: 'v1+v2' }, budget: { v: 'b1' } });
  });

  it('fail_fast: the failed branch aborts the running sibling through its signal and routes onError, naming the branch', async () => {
    const t = tools();
    const definition = loadDefinitionFromObject(
      {
        id: 'fast',
        retry: { maxAttempts: 1 },
        steps: {
          checks: {
            parallel: {
              branches: {
                slow: { steps: { s1: { tool: 'hang', with: { name: 's1' } }, s2: { tool: 'echo', with: { v: 's2' } } } },
                broken: { steps: { wait_for_slow: { tool: 'echo', with: { v: 'x' } }, f1: { tool: 'fail', with: {} } } },
              },
            },
            next: 'done',
            onError: 'manual',
          },
          done: { final: true, output: 'ok' },
          manual: { final: true, output: '{% $steps.checks.error.message %}' },
        },
      },
      t.list,
      'fast',
    );
    const engine = engineOn();
    const run = await engine.start(definition, { input: {} });
    expect(run.status).toBe('done');
    expect(run.output).toMatch(/^branch "broken" failed at step "f1": fail: vendor registry down/);
    expect(t.aborted).toEqual(['s1']);
    expect(t.calls).not.toContain('s2');
    expect(run.steps.find((s) => s.id === 's1')).toMatchObject({ status: 'skipped' });
    const journal = await engine.journal(run.runId);
    expect(journal.find((e) => e.step === 's1' && e.event === 'failed')?.error?.message).toMatch(/aborted: branch "broken" of "checks" failed/);
  });

  it('fail_fast without onError fails the run naming the branch; resume runs the branches again', async () => {
    const t = tools();
    const definition = loadDefinitionFromObject(
      {
        id: 'fast-fail',
        retry: { maxAttempts: 1 },
        steps: {
          checks: { parallel: { branches: { a: { steps: { a1: { tool: 'flaky', with: {} } } }, b: { steps: { b1: { tool: 'echo', with: { v: 'b' } } } } } }, next: 'done' },
          done: { final: true, output: '{% $steps.checks.output %}' },
        },
      },
      t.list,
      'fast-fail',
    );
    const engine = engineOn();
    const run = await engine.start(definition, { input: {} });
    expect(run.status).toBe('failed');
    expect(run.resumable).toBe(true);
    expect(run.failure).toMatchObject({ step: 'checks', kind: 'tool_error' });
    expect(run.failure?.message).toMatch(/branch "a" failed at step "a1": flaky: blip/);
    const resumed = await engine.resume(run.runId);
    expect(resumed.status).toBe('done');
    expect(resumed.output).toEqual({ a: { ok: true }, b: { v: 'b' } });
    // The branches' second start is the parallel step's second attempt: no two entries name one attempt.
    const own = (await engine.journal(run.runId)).filter((e) => e.step === 'checks').map((e) => [e.event, e.visit, e.attempt]);
    expect(own).toEqual([['started', 1, 1], ['failed', 1, 1], ['started', 1, 2], ['completed', 1, 2]]);
  });

  it('collect: every branch runs to its end, a failed branch hands on { error }, and a choice routes on it', async () => {
    const t = tools();
    const definition = loadDefinitionFromObject(
      {
        id: 'collect',
        retry: { maxAttempts: 1 },
        steps: {
          checks: {
            parallel: {
              onBranchError: 'collect',
              branches: { vendor: { steps: { vf: { tool: 'fail', with: {} } } }, budget: { steps: { bo: { tool: 'echo', with: { v: 'fine' } }, bo2: { tool: 'echo', with: { v: 'fine2' } } } } },
            },
          },
          route: { choice: [{ when: '{% $exists($steps.checks.output.vendor.error) %}', next: 'review' }, { next: 'done' }] },
          done: { final: true, output: 'clean' },
          review: { final: true, output: '{% $steps.checks.output %}' },
        },
      },
      t.list,
      'collect',
    );
    const run = await engineOn().start(definition, { input: {} });
    expect(run.status).toBe('done');
    expect(run.output).toEqual({
      vendor: { error: { step: 'vf', kind: 'tool_error', message: 'fail: vendor registry down' } },
      budget: { v: 'fine2' },
    });
    expect(run.failure).toBeNull();
  });

  it('a retry with backoff inside a branch, and two waits in two branches resumed one by one by step', async () => {
    const t = tools();
    const definition = loadDefinitionFromObject(
      {
        id: 'waits',
        steps: {
          checks: {
            parallel: {
              branches: {
                left: { steps: { l0: { tool: 'flaky', with: {} }, lw: { wait: { on: { APPROVE: 'l1' } } }, l1: { tool: 'echo', with: { v: '{% $steps.lw.output %}' } } } },
                right: { steps: { rw: { wait: { on: { APPROVE: 'r1' } } }, r1: { tool: 'echo', with: { v: '{% $steps.rw.output %}' } } } },
              },
            },
            next: 'done',
          },
          done: { final: true, output: '{% $steps.checks.output %}' },
        },
      },
      t.list,
      'waits',
    );
    const engine = engineOn();
    const run = await engine.start(definition, { input: {} });
    expect(run.status).toBe('waiting');
    expect(t.flakyCalls()).toBe(2);
    const journal = await engine.journal(run.runId);
    expect(journal.some((e) => e.step === 'l0' && e.event === 'retry_scheduled')).toBe(true);
    const afterRight = await engine.send(run.runId, 'APPROVE', 'R', { step: 'rw' });
    expect(afterRight.status).toBe('waiting');
    expect(afterRight.steps.find((s) => s.id === 'r1')?.status).toBe('done');
    expect(afterRight.steps.find((s) => s.id === 'l1')).toBeUndefined();
    const done = await engine.send(run.runId, 'APPROVE', 'L', { step: 'lw' });
    expect(done.status).toBe('done');
    expect(done.output).toEqual({ left: { v: 'L' }, right: { v: 'R' } });
  });

  it('nests: a parallel step inside a branch ends its branch with its own gathered output', async () => {
    const t = tools();
    const definition = loadDefinitionFromObject(
      {
        id: 'nested',
        steps: {
          outer: {
            parallel: {
              branches: {
                left: {
                  steps: {
                    inner: { parallel: { branches: { x: { steps: { x1: { tool: 'echo', with: { v: 'x1' } } } }, y: { steps: { y1: { tool: 'echo', with: { v: 'y1' } } } } } } },
                  },
                },
                right: { steps: { r1: { tool: 'echo', with: { v: 'r1' } } } },
              },
            },
            next: 'done',
          },
          done: { final: true, output: '{% $steps.outer.output %}' },
        },
      },
      t.list,
      'nested',
    );
    const run = await engineOn().start(definition, { input: {} });
    expect(run.status).toBe('done');
    expect(run.output).toEqual({ left: { x: { v: 'x1' }, y: { v: 'y1' } }, right: { v: 'r1' } });
  });

  it('validation: step ids are unique across branches, and routes stay within their branch', () => {
    const dup = () =>
      loadDefinitionFromObject(
        {
          id: 'dup',
          steps: {
            checks: { parallel: { branches: { a: { steps: { x: { tool: 'echo', with: { v: 1 } } } }, b: { steps: { x: { tool: 'echo', with: { v: 2 } } } } } }, next: 'done' },
            done: { final: true },
          },
        },
        tools().list,
        'dup',
      );
    expect(dup).toThrow(DefinitionError);
    expect(dup).toThrow(/steps\.checks\.parallel\.branches\.b\.steps\.x.*step id "x" is already used at steps\.checks\.parallel\.branches\.a\.steps\.x/s);
    const cross = () =>
      loadDefinitionFromObject(
        {
          id: 'cross',
          steps: {
            checks: { parallel: { branches: { a: { steps: { a1: { tool: 'echo', with: { v: 1 }, next: 'b1' } } }, b: { steps: { b1: { tool: 'echo', with: { v: 2 } } } } } }, next: 'done' },
            done: { final: true },
          },
        },
        tools().list,
        'cross',
      );
    expect(cross).toThrow(/branches\.a\.steps\.a1\.next.*"b1" is a step of branch "b" of "checks"; a route from "a1" may only name steps of branch "a" \(a1\)/s);
    const nested = () =>
      loadDefinitionFromObject(
        { id: 'bad', steps: { checks: { parallel: { branches: { a: { steps: { a1: { tool: 'echo', wiht: {} } } } } }, next: 'done' }, done: { final: true } } },
        tools().list,
        'bad',
      );
    expect(nested).toThrow(/steps\.checks\.parallel\.branches\.a\.steps\.a1/);
  });
});

describe('parallel step worst case', () => {
  it("validate's worst-case bound sums the branches", async () => {
    const { worstCaseTokens } = await import('../../src/policy/worst-case.js');
    const claude = (tool: string) => ({ claude: { tool, prompt: 'Fill it.' } });
    const one = loadDefinitionFromObject({ id: 'one', maxTokens: 100, steps: { a: claude('echo'), done: { final: true } } }, tools().list, 'one');
    const single = worstCaseTokens(one.workflow).tokens;
    const par = loadDefinitionFromObject(
      {
        id: 'par',
        maxTokens: 100,
        steps: {
          checks: { parallel: { branches: { x: { steps: { a: claude('echo'), a2: claude('echo') } }, y: { steps: { b: claude('echo') } } } }, next: 'done' },
          done: { final: true },
        },
      },
      tools().list,
      'par',
    );
    const bound = worstCaseTokens(par.workflow);
    expect(single).toBeGreaterThan(0);
    expect(bound.tokens).toBe(3 * single);
    expect(bound.path).toEqual(['checks', 'done']);
  });
});

describe('parallel step diagrams', () => {
  it('draws each branch as a region: a concurrent region in Mermaid, a cluster in DOT', async () => {
    const { diagram } = await import('../../src/observe/diagram.js');
    const definition = loadDefinitionFromObject(
      {
        id: 'drawn',
        steps: {
          checks: { parallel: { branches: { a: { steps: { a1: { tool: 'echo', with: { v: 1 } }, a2: { tool: 'echo', with: { v: 2 } } } }, b: { steps: { b1: { tool: 'echo', with: { v: 3 } } } } } }, next: 'done', onError: 'failed_checks' },
          done: { final: true },
          failed_checks: { final: true },
        },
      },
      tools().list,
      'drawn',
    );
    const mermaid = await diagram(definition.workflow, 'mermaid');
    expect(mermaid).toContain(['  state checks {', '    state "a1 · tool echo" as a1', '    state "a2 · tool echo" as a2', '    [*] --> a1', '    a1 --> a2', '    a2 --> [*]', '    --'].join('\n'));
    expect(mermaid).toContain('  checks --> done\n');
    expect(mermaid).toContain('  checks --> failed_checks : branch failed\n');
    const dot = await diagram(definition.workflow, 'dot');
    expect(dot).toMatch(/subgraph "cluster_checks_a" \{[^}]*"a1"[^}]*"a2"[^}]*\}/);
    expect(dot).toContain('"checks" -> "b1" [style=bold, arrowhead=none];');
    expect(dot).toContain('"b1" -> "checks__join" [arrowhead=none];');
  });
});
