/**
 * Attempt numbers across a resume: a resumed step's next attempt continues past the last one its visit used, so
 * every attempt gets its own idempotency key `runId:stepId:visit:attempt` and the journal never holds two `started`
 * entries for one (step, visit, attempt); the retry policy still grants the resumed step its full `maxAttempts`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ManualClock } from '../../src/engine/clock.js';
import type { JournalEntry } from '../../src/run/types.js';
import { downTool, ToolFault } from '../../src/testing/tool-faults.js';
import { defineTool, type AnyTool } from '../../src/tools/define.js';
import { definition, events, rig, vendorApi, type Rig } from '../guards/helpers.js';

let r: Rig | undefined;
afterEach(async () => {
  await r?.close();
  r = undefined;
});

const retry = { maxAttempts: 4, backoff: { initial: '1s', factor: 2, max: '10s', jitter: 0 } };

/** A tool that fails (retryably) until `healthy()` says otherwise, recording the key of every call. */
function keyedTool(healthy: () => boolean = () => false) {
  const keys: string[] = [];
  const tool = defineTool({
    name: 'flaky_api',
    description: 'An upstream API that caches its answer per idempotency key',
    input: z.object({ id: z.string() }),
    run: async ({ id }, { idempotencyKey }) => {
      keys.push(idempotencyKey);
      if (!healthy()) throw new ToolFault('upstream error');
      return { id, ok: true };
    },
  });
  return { tool, keys };
}

const tryIt = {
  id: 'resume-attempts',
  retry,
  breaker: false,
  steps: {
    try_it: { tool: 'flaky_api', with: { id: 'x' }, next: 'done' },
    done: { final: true, output: '{% $steps.try_it.output.ok %}' },
  },
};

/** The (step, visit, attempt) of every `started` entry that is not a re-run of an interrupted attempt. */
function startedAttempts(journal: readonly JournalEntry[]): string[] {
  return events(journal, 'started')
    .filter((e) => !(typeof e.data === 'object' && e.data !== null && (e.data as { rerun?: unknown }).rerun === true))
    .map((e) => `${e.step}:${e.visit}:${e.attempt}`);
}

const unique = (values: readonly string[]) => new Set(values).size === values.length;

describe('attempt numbers across a resume', () => {
  it('a resumed step gets new keys past the ones its visit used, and its full maxAttempts again', async () => {
    r = await rig();
    const { tool, keys } = keyedTool();
    const run = await r.engine.start(definition(tryIt, [tool]));
    expect(run).toMatchObject({ status: 'failed', resumable: true, failure: { kind: 'retries_exhausted', step: 'try_it' } });
    expect(run.failure?.message).toMatch(/after 4 attempts; last: tool_error/);
    const id = run.runId;
    expect(keys).toEqual([1, 2, 3, 4].map((n) => `${id}:try_it:1:${n}`));

    const resumed = await r.engine.resume(id);
    expect(resumed).toMatchObject({ status: 'failed', resumable: true, failure: { kind: 'retries_exhausted', step: 'try_it' } });
    // Four more attempts (the policy counts from the resume), each with a key never used before.
    expect(resumed.failure?.message).toMatch(/after 4 attempts since the resume; last: tool_error/);
    expect(keys).toEqual([1, 2, 3, 4, 5, 6, 7, 8].map((n) => `${id}:try_it:1:${n}`));

    const journal = await r.engine.journal(id);
    const started = startedAttempts(journal);
    expect(started).toEqual([1, 2, 3, 4, 5, 6, 7, 8].map((n) => `try_it:1:${n}`));
    expect(unique(started)).toBe(true);
    const failed = events(journal, 'failed').map((e) => `${e.step}:${e.visit}:${e.attempt}`);
    expect(unique(failed)).toBe(true);
    // The backoff starts again from its initial delay after the resume.
    expect(events(journal, 'retry_scheduled').map((e) => (e.data as { delayMs: number }).delayMs)).toEqual([1000, 2000, 4000, 1000, 2000, 4000]);
    // The visit counts every attempt it made, as the journal numbers them.
    expect(resumed.steps.find((s) => s.id === 'try_it')).toMatchObject({ visit: 1, attempts: 8, status: 'failed' });
  });

  it('a resume that succeeds uses the next key, and a second resume goes on past it', async () => {
    r = await rig();
    let healthy = false;
    const { tool, keys } = keyedTool(() => healthy);
    const run = await r.engine.start(definition(tryIt, [tool]));
    await r.engine.resume(run.runId);
    healthy = true;
    const done = await r.engine.resume(run.runId);
    expect(done).toMatchObject({ status: 'done', output: true });
    expect(keys).toHaveLength(9);
    expect(keys[8]).toBe(`${run.runId}:try_it:1:9`);
    expect(unique(keys)).toBe(true);
    const journal = await r.engine.journal(run.runId);
    expect(unique(startedAttempts(journal))).toBe(true);
    expect(events(journal, 'completed').find((e) => e.step === 'try_it')).toMatchObject({ visit: 1, attempt: 9 });
  });

  it('a step stopped by an open breaker and resumed gets a new key for each attempt', async () => {
    const clock = new ManualClock({ autoAdvance: true });
    const start = clock.now();
    const keys: string[] = [];
    const down = downTool(vendorApi, { from: start, until: start + 30_000, clock });
    const tool: AnyTool = { ...down, run: (input, context) => (keys.push(context.idempotencyKey), down.run(input, context)) };
    r = await rig({ clock });
    const def = definition(
      {
        id: 'breaker-resume',
        retry: { ...retry, maxAttempts: 3 },
        breaker: { threshold: 2, cooldown: '1m' },
        steps: {
          lookup: { tool: 'vendor_api', with: { vendorId: 'V-1' }, next: 'done' },
          done: { final: true, output: '{% $steps.lookup.output.name %}' },
        },
      },
      [tool],
    );
    const run = await r.engine.start(def);
    expect(run.failure).toMatchObject({ kind: 'breaker_open', step: 'lookup' });
    expect(await r.engine.resume(run.runId)).toMatchObject({ failure: { kind: 'breaker_open' } }); // refused, not called
    clock.advance(60_000);
    expect(await r.engine.resume(run.runId)).toMatchObject({ status: 'done', output: 'ACME' });

    const journal = await r.engine.journal(run.runId);
    const started = startedAttempts(journal);
    expect(started).toEqual([1, 2, 3, 4, 5].map((n) => `lookup:1:${n}`));
    expect(keys).toEqual([`${run.runId}:lookup:1:1`, `${run.runId}:lookup:1:2`, `${run.runId}:lookup:1:5`]);
  });

  it('a new visit of the step starts again from attempt 1', async () => {
    r = await rig();
    let calls = 0;
    const keys: string[] = [];
    // Fails the first four calls (the first visit's attempts), then works.
    const tool = defineTool({
      name: 'flaky_api',
      description: 'An upstream API',
      input: z.object({ id: z.string() }),
      run: async ({ id }, { idempotencyKey }) => {
        keys.push(idempotencyKey);
        if (++calls <= 4) throw new ToolFault('upstream error');
        return { id, ok: true };
      },
    });
    const looping = {
      id: 'resume-loop',
      retry,
      breaker: false,
      steps: {
        try_it: { tool: 'flaky_api', with: { id: 'x' }, next: 'again' },
        again: { choice: [{ when: '{% $steps.try_it.visit < 2 %}', next: 'try_it' }, { next: 'done' }] },
        done: { final: true, output: '{% $steps.try_it.visit %}' },
      },
    };
    const run = await r.engine.start(definition(looping, [tool]));
    expect(run.status).toBe('failed');
    const done = await r.engine.resume(run.runId);
    expect(done).toMatchObject({ status: 'done', output: 2 });
    expect(keys.map((k) => k.slice(run.runId.length + 1))).toEqual(['try_it:1:1', 'try_it:1:2', 'try_it:1:3', 'try_it:1:4', 'try_it:1:5', 'try_it:2:1']);
  });
});
