/**
 * Loop detection through the engine: a step whose model keeps producing equal
 * or near-equal tool inputs is stopped at its limit (each normalisation: key
 * order, whitespace, case, numeric noise), with the offending input in the
 * journal; a step revisited past its visit limit is stopped too. The model is
 * the real SDK client, fed scripted replies through its `fetch` option so the
 * near-equal inputs are exactly the ones under test; the visit limit runs on
 * the emulator.
 */
import Anthropic from '@anthropic-ai/sdk';
import { z } from 'zod';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/engine/clock.js';
import { COMMIT_EVERY } from '../../src/engine/driver.js';
import { createEngine } from '../../src/engine/engine.js';
import { normalizeForLoop } from '../../src/policy/loop.js';
import { createMemoryStore } from '../../src/store/memory.js';
import { defineTool } from '../../src/tools/define.js';
import { definition, events, recordNote, rig, vendorApi, type Rig } from './helpers.js';

const recordAmount = defineTool({
  name: 'record_amount',
  description: 'Record an amount with a title.',
  input: z.object({ title: z.string(), amount: z.number() }),
  run: async (input) => input,
});

/** A client whose replies call the forced tool with the scripted inputs, in order. */
function scriptedClient(inputs: readonly unknown[]): { client: Anthropic; requests: () => number } {
  let served = 0;
  const fetch = async (_url: unknown, init?: { body?: unknown }) => {
    const body = JSON.parse(String(init?.body)) as { tool_choice: { name: string } };
    const input = inputs[Math.min(served, inputs.length - 1)];
    served++;
    const message = {
      id: `msg_${served}`,
      type: 'message',
      role: 'assistant',
      model: 'claude-sonnet-4-6',
      content: [{ type: 'tool_use', id: `toolu_${served}`, name: body.tool_choice.name, input }],
      stop_reason: 'tool_use',
      stop_sequence: null,
      usage: { input_tokens: 50, output_tokens: 20 },
    };
    return new Response(JSON.stringify(message), { status: 200, headers: { 'content-type': 'application/json' } });
  };
  return { client: new Anthropic({ apiKey: 'x', baseURL: 'http://scripted.invalid', maxRetries: 0, fetch: fetch as never }), requests: () => served };
}

/** `write` is revisited until its 8th visit, unless loop detection stops it first. */
const revisiting = (tool: string) => ({
  id: `revisit-${tool}`,
  limits: { repeatedInputs: 3 },
  steps: {
    write: { claude: { tool, prompt: 'Record it.' }, next: 'review' },
    review: { choice: [{ when: '{% $steps.write.visit < 8 %}', next: 'write' }, { next: 'done' }] },
    done: { final: true },
  },
});

async function runScripted(tool: 'record_note' | 'record_amount', inputs: readonly unknown[]) {
  const { client, requests } = scriptedClient(inputs);
  const store = createMemoryStore();
  const engine = createEngine({ store, clock: new ManualClock({ autoAdvance: true }), model: client });
  const run = await engine.start(definition(revisiting(tool), [recordNote, recordAmount]));
  const journal = await engine.journal(run.runId);
  await store.close();
  return { run, journal, requests: requests() };
}

const cases: Array<[name: string, tool: 'record_note' | 'record_amount', inputs: unknown[]]> = [
  ['key order', 'record_note', [{ title: 'Budget', note: 'Q3 numbers' }, { note: 'Q3 numbers', title: 'Budget' }, { title: 'Budget', note: 'Q3 numbers' }, { note: 'Q3 numbers', title: 'Budget' }]],
  ['whitespace', 'record_note', [{ title: 'Budget', note: 'Q3 numbers' }, { title: ' Budget', note: 'Q3   numbers' }, { title: 'Budget\n', note: 'Q3\tnumbers' }, { title: 'Budget ', note: ' Q3 numbers ' }]],
  ['case', 'record_note', [{ title: 'Budget', note: 'Q3 numbers' }, { title: 'BUDGET', note: 'q3 numbers' }, { title: 'budget', note: 'Q3 Numbers' }, { title: 'Budget', note: 'Q3 NUMBERS' }]],
  ['numeric noise', 'record_amount', [{ title: 'Budget', amount: 1200 }, { title: 'Budget', amount: 1200.004 }, { title: 'Budget', amount: 1199.996 }, { title: 'Budget', amount: 1200.002 }]],
];

describe('repeated tool inputs', () => {
  for (const [name, tool, inputs] of cases) {
    it(`${name}: near-equal inputs are stopped on the one past the limit (3)`, async () => {
      const forms = new Set(inputs.map((input) => JSON.stringify(normalizeForLoop(input))));
      expect(forms.size).toBe(1); // the inputs really are near-equal under this normalisation
      expect(new Set(inputs.map((input) => JSON.stringify(input))).size).toBeGreaterThan(1);

      const { run, journal, requests } = await runScripted(tool, inputs);
      expect(run).toMatchObject({ status: 'failed', resumable: false, failure: { kind: 'loop', step: 'write' } });
      expect(run.failure?.message).toMatch(/same tool input more than 3 times/);
      expect(requests).toBe(4);
      const caught = events(journal, 'loop_detected');
      expect(caught).toHaveLength(1);
      expect(caught[0]).toMatchObject({ step: 'write', visit: 4, input: inputs[3], error: { kind: 'loop' } });
      expect(events(journal, 'completed').map((e) => e.input)).toEqual(inputs.slice(0, 3));
    });
  }

  it('inputs that really differ are not a loop', async () => {
    const inputs = Array.from({ length: 8 }, (_, i) => ({ title: 'Budget', amount: 1000 + i * 50 }));
    const { run, requests } = await runScripted('record_amount', inputs);
    expect(run.status).toBe('done');
    expect(requests).toBe(8);
  });
});

describe('visit limit', () => {
  let r: Rig | undefined;
  afterEach(async () => {
    await r?.close();
    r = undefined;
  });

  it('a step entered more than maxVisits times stops the run as a loop before its next call', async () => {
    r = await rig({ tools: [recordNote] });
    const wf = revisiting('record_note');
    const looping = { ...wf, id: 'visit-limit', limits: { repeatedInputs: 50 }, steps: { ...wf.steps, write: { ...wf.steps.write, maxVisits: 3 } } };
    const run = await r.engine.start(definition(looping, [recordNote]));
    expect(run).toMatchObject({ status: 'failed', resumable: false, failure: { kind: 'loop', step: 'write' } });
    expect(run.failure?.message).toMatch(/visited more than 3 times/);
    expect(r.emu.stats().requests).toBe(3);
    const journal = await r.engine.journal(run.runId);
    expect(events(journal, 'loop_detected')).toMatchObject([{ step: 'write', visit: 4 }]);
  });
});

describe('cycles through choice and wait steps', () => {
  let r: Rig | undefined;
  afterEach(async () => {
    await r?.close();
    r = undefined;
  });

  /** A memory store that records how many journal entries each commit writes (a run's first commit creates it). */
  function countingStore() {
    const store = createMemoryStore();
    const commits: number[] = [];
    const counted: typeof store = {
      ...store,
      create: (run, journal) => {
        commits.push(journal.length);
        return store.create(run, journal);
      },
      commit: (runId, patch, journal, revision) => {
        commits.push(journal.length);
        return store.commit(runId, patch, journal, revision);
      },
    };
    return { store: counted, commits };
  }

  it('a wait that times out at once, in a cycle with a choice, stops at its visit limit, committing in bounded batches', async () => {
    const { store, commits } = countingStore();
    r = await rig({ store });
    const spin = {
      id: 'spin',
      limits: { maxVisits: 500 },
      steps: {
        hold: { wait: { on: { GO: 'done' }, timeout: 0, onTimeout: 'again' } },
        again: { choice: [{ when: '{% $input.stop = true %}', next: 'done' }, { next: 'hold' }] },
        done: { final: true },
      },
    };
    const run = await r.engine.start(definition(spin, []), { input: { stop: false } });
    expect(run).toMatchObject({ status: 'failed', failure: { kind: 'loop', step: 'hold', message: 'step "hold" was visited more than 500 times' } });
    const journal = await r.engine.journal(run.runId);
    expect(events(journal, 'loop_detected')).toMatchObject([{ step: 'hold', visit: 501, error: { kind: 'loop' } }]);
    expect(events(journal, 'timeout')).toHaveLength(500);
    expect(events(journal, 'choice')).toHaveLength(500);
    // About 1,000 transitions: many commits, none with more than one batch of entries.
    expect(commits.length).toBeGreaterThanOrEqual(Math.floor(1000 / COMMIT_EVERY));
    expect(Math.max(...commits)).toBeLessThanOrEqual(COMMIT_EVERY + 2);
    // Every entry came through these commits, `created` with the first.
    expect(commits.reduce((a, b) => a + b, 0)).toBe(journal.length);
    await store.close();
  });

  it('a wait with a 1 ms timeout in a cycle fails at its own maxVisits, however often it is woken', async () => {
    const clock = new ManualClock();
    r = await rig({ clock });
    const cycle = {
      id: 'tick',
      steps: {
        hold: { wait: { on: { GO: 'done' }, timeout: '1ms', onTimeout: 'again' }, maxVisits: 3 },
        again: { choice: [{ when: '{% $input.stop = true %}', next: 'done' }, { next: 'hold' }] },
        done: { final: true },
      },
    };
    let run = await r.engine.start(definition(cycle, []), { input: { stop: false } });
    let wakes = 0;
    for (; run.status === 'waiting' && wakes < 20; wakes++) {
      clock.advance(1);
      run = await r.engine.resume(run.runId);
    }
    expect(wakes).toBe(3);
    expect(run).toMatchObject({ status: 'failed', failure: { kind: 'loop', step: 'hold', message: 'step "hold" was visited more than 3 times' } });
  });

  it('a wait whose timeout leads back to itself counts every visit and stops at its maxVisits', async () => {
    const clock = new ManualClock();
    r = await rig({ clock });
    const cycle = {
      id: 'self-wait',
      steps: {
        hold: { wait: { on: { GO: 'done' }, timeout: '1ms', onTimeout: 'hold' }, maxVisits: 3 },
        done: { final: true },
      },
    };
    let run = await r.engine.start(definition(cycle, []));
    let wakes = 0;
    for (; run.status === 'waiting' && wakes < 20; wakes++) {
      clock.advance(1);
      run = await r.engine.resume(run.runId);
    }
    expect(run).toMatchObject({ status: 'failed', failure: { kind: 'loop', step: 'hold', message: 'step "hold" was visited more than 3 times' } });
    expect(wakes).toBe(3);
    expect(run.steps.map((s) => s.visit)).toEqual([1, 2, 3, 4]);
    const journal = await r.engine.journal(run.runId);
    expect(events(journal, 'timeout')).toHaveLength(3);
  });

  it('a wait event that leads back to the same wait counts a visit', async () => {
    r = await rig({ clock: new ManualClock() });
    const cycle = {
      id: 'self-event',
      steps: {
        hold: { wait: { on: { PING: 'hold', GO: 'done' } }, maxVisits: 2 },
        done: { final: true },
      },
    };
    let run = await r.engine.start(definition(cycle, []));
    run = await r.engine.send(run.runId, 'PING');
    expect(run).toMatchObject({ status: 'waiting' });
    expect(run.steps.map((s) => s.visit)).toEqual([1, 2]);
    run = await r.engine.send(run.runId, 'PING');
    expect(run).toMatchObject({ status: 'failed', failure: { kind: 'loop', step: 'hold' } });
  });

  it('a tool step whose next is itself counts every visit and stops at its maxVisits', async () => {
    r = await rig({ tools: [vendorApi] });
    const cycle = {
      id: 'self-tool',
      steps: {
        look: { tool: 'vendor_api', with: { vendorId: 'v1' }, maxVisits: 3, next: 'look', onError: 'done' },
        done: { final: true },
      },
    };
    const run = await r.engine.start(definition(cycle, [vendorApi]));
    expect(run).toMatchObject({ status: 'failed', failure: { kind: 'loop', step: 'look' } });
    const journal = await r.engine.journal(run.runId);
    expect(events(journal, 'completed')).toHaveLength(3);
  });

  it('a choice on a cycle with a work step stops at the choice\'s own maxVisits', async () => {
    r = await rig({ tools: [vendorApi] });
    const cycle = {
      id: 'recheck',
      steps: {
        look: { tool: 'vendor_api', with: { vendorId: 'v1' }, maxVisits: 20 },
        again: { choice: [{ when: '{% $steps.look.visit > 50 %}', next: 'done' }, { next: 'look' }], maxVisits: 4 },
        done: { final: true },
      },
    };
    const run = await r.engine.start(definition(cycle, [vendorApi]));
    expect(run).toMatchObject({ status: 'failed', failure: { kind: 'loop', step: 'again', message: 'step "again" was visited more than 4 times' } });
    const journal = await r.engine.journal(run.runId);
    expect(events(journal, 'completed')).toHaveLength(5);
    expect(events(journal, 'loop_detected')).toMatchObject([{ step: 'again', visit: 5 }]);
  });
});
