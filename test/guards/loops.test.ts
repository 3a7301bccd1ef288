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
import { createEngine } from '../../src/engine/engine.js';
import { normalizeForLoop } from '../../src/policy/loop.js';
import { createMemoryStore } from '../../src/store/memory.js';
import { defineTool } from '../../src/tools/define.js';
import { definition, events, recordNote, rig, type Rig } from './helpers.js';

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
