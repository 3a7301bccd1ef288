/**
 * Timers of one branch while a sibling branch has an effect in flight, through
 * the real engine on a manual clock: a branch's retry backoff and a wait's
 * timeout come when their time does, not when the sibling's call returns, so
 * a fail_fast failure after the retry aborts the sibling at once; and the
 * timer raced against the effects is let go when the effects win the race.
 * The sibling's tool blocks on a promise the test holds (and honours its abort
 * signal): every assertion about order is made before it is released.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadDefinitionFromObject } from '../../src/definition/load.js';
import { ManualClock, type Clock } from '../../src/engine/clock.js';
import { createEngine } from '../../src/engine/engine.js';
import { createSqliteStore } from '../../src/store/sqlite.js';
import { defineTool } from '../../src/tools/define.js';

const dir = mkdtempSync(join(tmpdir(), 'stepwise-parallel-timers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const noModel = { baseURL: 'http://127.0.0.1:9', apiKey: 'unused', maxRetries: 0 };
let dbs = 0;

/** A manual clock that counts the timers and sleeps still pending on it (armed, not yet resolved). */
function countingClock() {
  const manual = new ManualClock();
  let timers = 0;
  let sleeps = 0;
  const clock: Clock = {
    now: () => manual.now(),
    sleep: (ms, signal) => {
      sleeps++;
      return manual.sleep(ms, signal).finally(() => sleeps--);
    },
    timer: (ms, signal) => {
      timers++;
      return manual.timer(ms, signal).finally(() => timers--);
    },
  };
  return { clock, advance: (ms: number) => manual.advance(ms), timers: () => timers, sleeps: () => sleeps };
}

/** `block` runs until the test releases it or its signal aborts; `boom` always throws (retryable); `echo` returns its input. */
function tools() {
  const calls: string[] = [];
  const aborted: string[] = [];
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let boomCalls = 0;
  const block = defineTool({
    name: 'block',
    description: 'Runs until released or aborted',
    input: z.object({ name: z.string() }),
    run: ({ name }, { signal }) =>
      new Promise((resolve, reject) => {
        calls.push(name);
        signal.addEventListener('abort', () => (aborted.push(name), reject(new Error('aborted'))), { once: true });
        void released.then(() => resolve({ slow: name }));
      }),
  });
  const boom = defineTool({
    name: 'boom',
    description: 'Always throws',
    input: z.object({}),
    run: () => {
      boomCalls++;
      throw new Error(`boom ${boomCalls}`);
    },
  });
  const echo = defineTool({ name: 'echo', description: 'Echo', input: z.object({ v: z.unknown() }), run: ({ v }) => (calls.push(String(v)), { v }) });
  return { list: [block, boom, echo], calls, aborted, release, boomCalls: () => boomCalls };
}

/** Polls `check` every few real milliseconds (the engine clock does not move); fails naming `what` if it never holds. */
async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`never happened: ${what}`);
}

/** Ends the test's run whatever happened (an assertion may have failed first): releases the blocked tool and moves the clock on until the drive returns. */
async function letGo(started: Promise<unknown>, t: ReturnType<typeof tools>, time: ReturnType<typeof countingClock>): Promise<void> {
  t.release();
  let ended = false;
  void started.catch(() => undefined).finally(() => (ended = true));
  for (let i = 0; i < 100 && !ended; i++) {
    time.advance(60_000);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** slow: s1 blocks; bad: b0 echoes, then b1 always throws, retried once after 100 ms; fine: an echo. */
function definition(onBranchError: 'fail_fast' | 'collect', t: ReturnType<typeof tools>) {
  return loadDefinitionFromObject(
    {
      id: `retry-beside-${onBranchError}`,
      steps: {
        checks: {
          parallel: {
            onBranchError,
            branches: {
              slow: { steps: { s1: { tool: 'block', with: { name: 's1' } } } },
              bad: {
                steps: {
                  b0: { tool: 'echo', with: { v: 'b0' } },
                  b1: { tool: 'boom', with: {}, retry: { maxAttempts: 2, backoff: { initial: '100ms', jitter: 0 } } },
                },
              },
              fine: { steps: { f1: { tool: 'echo', with: { v: 'f1' } } } },
            },
          },
          next: 'done',
          onError: 'manual',
        },
        done: { final: true, output: '{% $steps.checks.output %}' },
        manual: { final: true, output: '{% $steps.checks.error.message %}' },
      },
    },
    t.list,
    `retry-beside-${onBranchError}`,
  );
}

describe('timers of a branch while a sibling has an effect in flight', () => {
  it('fail_fast: the retry runs when its backoff ends, and its failure aborts the sibling still in flight', async () => {
    const t = tools();
    const time = countingClock();
    const engine = createEngine({ store: createSqliteStore({ path: join(dir, `runs-${++dbs}.db`) }), model: noModel, clock: time.clock });
    const started = engine.start(definition('fail_fast', t), { input: {} });
    try {
      await until(() => t.calls.includes('s1') && t.boomCalls() === 1, 's1 in flight and the first boom');
      let runId = '';
      await until(async () => {
        runId = (await engine.list())[0]?.runId ?? '';
        return runId !== '' && (await engine.journal(runId)).some((e) => e.step === 'b1' && e.event === 'retry_scheduled');
      }, 'the retry of b1 to be scheduled');
      time.advance(150); // past the 100 ms backoff; s1 still blocks
      await until(() => t.boomCalls() === 2, 'the second attempt of b1');
      await until(() => t.aborted.includes('s1'), 's1 to be aborted');
      const run = await started;
      expect(run.status).toBe('done');
      expect(run.output).toMatch(/^branch "bad" failed at step "b1": .*boom 2/);
      expect(run.steps.find((s) => s.id === 's1')).toMatchObject({ status: 'skipped' });
      const journal = await engine.journal(run.runId);
      expect(journal.filter((e) => e.step === 'b1' && e.event === 'started').map((e) => e.attempt)).toEqual([1, 2]);
      expect(journal.find((e) => e.step === 's1' && e.event === 'failed')?.error?.kind).toBe('cancelled');
      expect(time.timers()).toBe(0); // the raced timers were let go
    } finally {
      await letGo(started, t, time);
    }
  });

  it('collect: the retry runs and its branch is collected while the sibling still runs; the step ends when the sibling does', async () => {
    const t = tools();
    const time = countingClock();
    const engine = createEngine({ store: createSqliteStore({ path: join(dir, `runs-${++dbs}.db`) }), model: noModel, clock: time.clock });
    const started = engine.start(definition('collect', t), { input: {} });
    try {
      let runId = '';
      await until(async () => {
        runId = (await engine.list())[0]?.runId ?? '';
        return runId !== '' && (await engine.journal(runId)).some((e) => e.step === 'b1' && e.event === 'retry_scheduled');
      }, 'the retry of b1 to be scheduled');
      time.advance(150);
      await until(async () => (await engine.journal(runId)).some((e) => e.step === 'checks' && e.event === 'branch_failed'), 'the bad branch to be collected');
      expect(t.boomCalls()).toBe(2);
      expect(t.aborted).toEqual([]);
      t.release();
      const run = await started;
      expect(run.status).toBe('done');
      expect(run.output).toMatchObject({ slow: { slow: 's1' }, bad: { error: { step: 'b1' } }, fine: { v: 'f1' } });
      expect(time.timers()).toBe(0);
    } finally {
      await letGo(started, t, time);
    }
  });

  it("a wait's timeout in a branch comes while the sibling's call runs", async () => {
    const t = tools();
    const time = countingClock();
    const engine = createEngine({ store: createSqliteStore({ path: join(dir, `runs-${++dbs}.db`) }), model: noModel, clock: time.clock });
    const definition = loadDefinitionFromObject(
      {
        id: 'wait-beside',
        steps: {
          checks: {
            parallel: {
              branches: {
                slow: { steps: { s1: { tool: 'block', with: { name: 's1' } } } },
                waiting: { steps: { w: { wait: { on: { GO: 'w1' }, timeout: '100ms', onTimeout: 'w1' } }, w1: { tool: 'echo', with: { v: 'w1' } } } },
              },
            },
            next: 'done',
          },
          done: { final: true, output: '{% $steps.checks.output %}' },
        },
      },
      t.list,
      'wait-beside',
    );
    const started = engine.start(definition, { input: {} });
    try {
      await until(() => t.calls.includes('s1'), 's1 in flight');
      await until(() => time.timers() === 1, 'the wait timeout to be raced');
      time.advance(150);
      await until(() => t.calls.includes('w1'), 'the wait to time out into w1');
      t.release();
      const run = await started;
      expect(run.status).toBe('done');
      expect(run.output).toEqual({ slow: { slow: 's1' }, waiting: { v: 'w1' } });
      const journal = await engine.journal(run.runId);
      expect(journal.some((e) => e.step === 'w' && e.event === 'timeout')).toBe(true);
    } finally {
      await letGo(started, t, time);
    }
  });

  it('the sibling ending first lets the raced timer go; the drive then sleeps out the backoff as before', async () => {
    const t = tools();
    const time = countingClock();
    const engine = createEngine({ store: createSqliteStore({ path: join(dir, `runs-${++dbs}.db`) }), model: noModel, clock: time.clock });
    const started = engine.start(definition('collect', t), { input: {} });
    try {
      await until(() => t.boomCalls() === 1 && time.timers() === 1, 'the backoff raced against s1');
      t.release();
      await until(() => time.timers() === 0 && time.sleeps() === 1, 'the drive to sleep through the backoff');
      time.advance(150);
      const run = await started;
      expect(run.status).toBe('done');
      expect(t.boomCalls()).toBe(2);
      expect(time.timers() + time.sleeps()).toBe(0);
    } finally {
      await letGo(started, t, time);
    }
  });
});
