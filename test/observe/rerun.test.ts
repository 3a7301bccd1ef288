import { readFileSync } from 'node:fs';
import type { InspectionEvent } from 'xstate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { RunContext } from '../../src/compile/context.js';
import { loadDefinition, loadDefinitionFromObject } from '../../src/definition/load.js';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { ManualClock } from '../../src/engine/clock.js';
import { createEngine } from '../../src/engine/engine.js';
import { rerun, rerunRecord } from '../../src/engine/rerun.js';
import { snapshotOf } from '../../src/engine/view.js';
import { createMemoryStore } from '../../src/store/memory.js';
import { defineTool } from '../../src/tools/define.js';
import { SPAWN_BUDGET_MS } from '../budgets.js';
import { cli, lastJson, tempStore } from './cli.js';

interface RunJson {
  runId: string;
  status: string;
  output: { lead: { company: string; crmId: string } };
  steps: Array<{ id: string; status: string }>;
}

describe('stepwise rerun', { timeout: SPAWN_BUDGET_MS }, () => {
  it('starts a new run from a step, keeping the outputs of the steps before it', async () => {
    const store = tempStore();
    const lead = ['definitions/lead-enrichment.ts', '--input', '@definitions/lead-enrichment.input.json'];
    const original = lastJson<RunJson>((await cli(['run', ...lead, '--store', store, '--emulator', '--json'])).stdout);
    expect(original.status).toBe('done');

    const result = await cli(['rerun', original.runId, '--from', 'score', '--store', store, '--emulator', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const again = lastJson<RunJson>(result.stdout);
    expect(again.runId).not.toBe(original.runId);
    expect(again.status).toBe('done');
    expect(again.output.lead.company).toBe('Example Corp');
    expect(again.steps.map((s) => s.id)).toEqual(['company', 'score', 'save', 'done']);

    const shown = lastJson<{ timeline: { rows: Array<{ step: string | null; event: string; detail: string }> } }>(
      (await cli(['show', again.runId, '--store', store, '--json'])).stdout,
    );
    const rows = shown.timeline.rows;
    expect(rows[0]!.detail).toBe(`rerun of ${original.runId} from score`);
    expect(rows.filter((r) => r.step === 'company')).toEqual([]); // kept, not run again
    expect(rows.filter((r) => r.event === 'completed').map((r) => r.step)).toEqual(['score', 'save']);

    const bad = await cli(['rerun', original.runId, '--from', 'nope', '--store', store, '--emulator']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('no step "nope"');
  });
});

/** A run's snapshots as its machine went, from the engine's inspector. */
function snapshotLog() {
  const seen: Array<{ value: unknown; context: RunContext }> = [];
  const inspect = (event: InspectionEvent) => {
    if (event.type !== '@xstate.snapshot') return;
    const { value, context } = event.snapshot as unknown as { value: unknown; context: RunContext };
    seen.push(structuredClone({ value, context }));
  };
  /** The snapshot the machine had right after it first entered `step`. */
  const entering = (step: string) => seen.find((s) => s.context.visits[step] === 1 && s.context.trail.length === s.context.trail.findIndex((e) => e.id === step) + 1)!;
  return { inspect, entering };
}

/** Everything but the run's start time, which a rerun sets to its own (a fresh deadline), as its machine does for the first step's entry. */
function withoutStart({ startedAt: _startedAt, ...rest }: RunContext) {
  const [first, ...others] = rest.trail;
  return { ...rest, trail: first ? [{ ...first, startedAt: 0 }, ...others] : [] };
}

describe('rerun builds its snapshot through the machine', () => {
  const flakyCalls: string[] = [];
  const fetchOrder = defineTool({
    name: 'fetch_order',
    description: 'Fetch an order; the first call of each run fails, transiently.',
    input: z.object({ id: z.string() }),
    run: ({ id }, context) => {
      flakyCalls.push(context.idempotencyKey);
      if (context.attempt === 1) throw new Error('the order service is busy');
      return { id, total: 12_000, visit: context.visit };
    },
  });
  const ship = defineTool({
    name: 'ship',
    description: 'Ship an order.',
    input: z.object({ id: z.string(), by: z.string() }),
    run: ({ id, by }) => ({ shipped: id, by }),
  });
  const definition = loadDefinitionFromObject(
    {
      id: 'orders',
      retry: { maxAttempts: 3, backoff: { initial: '1s' } },
      steps: {
        fetch: { tool: 'fetch_order', with: { id: '{% $input.id %}' }, next: 'route' },
        route: {
          choice: [
            { when: '{% $steps.fetch.output.total > 10000 %}', next: 'approval' },
            { next: 'send' },
          ],
        },
        approval: { wait: { on: { APPROVE: 'send', REJECT: 'rejected', REVISE: 'fetch' }, timeout: '1h', onTimeout: 'rejected' } },
        send: { tool: 'ship', with: { id: '{% $steps.fetch.output.id %}', by: '{% $event.data.by %}' }, next: 'done' },
        done: { final: true, output: '{% $steps.send.output %}' },
        rejected: { final: true },
      },
    },
    [fetchOrder, ship],
    'orders',
  );

  async function original() {
    const clock = new ManualClock({ autoAdvance: true });
    const log = snapshotLog();
    const engine = createEngine({ store: createMemoryStore(), clock, inspect: log.inspect });
    const started = await engine.start(definition, { input: { id: 'o-1' } });
    expect(started.status).toBe('waiting');
    // A second round: fetch, route and approval are visited twice, so a step's latest result is not the one its first visit had.
    expect((await engine.send(started.runId, 'REVISE')).status).toBe('waiting');
    const done = await engine.send(started.runId, 'APPROVE', { by: 'ops' });
    expect(done.status).toBe('done');
    return { engine, clock, log, runId: done.runId, original: done };
  }

  it('replays the kept steps (a retried tool, a choice, a wait) to the state the original had when it entered the step', async () => {
    const { engine, log, runId, original: first } = await original();
    const record = await rerunRecord(engine, runId, 'send');
    const snapshot = snapshotOf(record);
    const then = log.entering('send');
    expect(snapshot.value).toEqual(then.value);
    expect(withoutStart(snapshot.context)).toEqual(withoutStart(then.context));
    expect(snapshot.context.startedAt).toBe(engine.clock.now());
    expect(snapshot.context.trail.map((e) => [e.id, e.visit, e.status, e.attempts])).toEqual([
      ['fetch', 1, 'done', 2],
      ['route', 1, 'done', 0],
      ['approval', 1, 'done', 0],
      ['fetch', 2, 'done', 2],
      ['route', 2, 'done', 0],
      ['approval', 2, 'done', 0],
      ['send', 1, 'running', 0],
    ]);
    expect(snapshot.context.steps['route']?.output).toEqual({ branch: 0 });
    expect(snapshot.context.event).toEqual({ type: 'APPROVE', data: { by: 'ops' } });

    const calls = flakyCalls.length;
    const again = await rerun(engine, runId, 'send');
    expect(again.status).toBe('done');
    expect(again.output).toEqual(first.output);
    expect(flakyCalls.length).toBe(calls); // fetch kept, not called again
    const completed = (await engine.journal(again.runId)).filter((e) => e.event === 'completed').map((e) => e.step);
    expect(completed).toEqual(['send']);
  });

  it('reruns from a wait after a choice: the new run waits there, its timeout counted from the rerun', async () => {
    const { engine, clock, log, runId } = await original();
    clock.advance(10 * 3_600_000);
    const again = await rerun(engine, runId, 'approval');
    expect(again.status).toBe('waiting');
    expect(again.waitingFor).toEqual({ step: 'approval', events: ['APPROVE', 'REJECT', 'REVISE'], timeoutAt: clock.now() + 3_600_000 });
    const record = (await engine.store.get(again.runId))!;
    const then = log.entering('approval');
    // Entry times (the rerun's for the wait, the run's start for the first step) aside, everything is as the original had it.
    const entry = <C extends { active: RunContext['active'] }>(c: C) => ({
      ...c,
      active: Object.fromEntries(Object.entries(c.active).map(([step, own]) => [step, { ...own, enteredAt: 0 }])),
    });
    const mine = entry(withoutStart(snapshotOf(record).context));
    const theirs = entry(withoutStart(then.context));
    expect(mine).toEqual({ ...theirs, trail: [...theirs.trail.slice(0, -1), { ...theirs.trail.at(-1)!, startedAt: clock.now() }] });
    expect(mine.steps['fetch']).toMatchObject({ visit: 1, output: { visit: 1 } }); // the first visit's result, not the latest
    const rejected = await engine.send(again.runId, 'REJECT');
    expect(rejected.status).toBe('done');
    expect(rejected.steps.map((s) => s.id)).toEqual(['fetch', 'route', 'approval', 'rejected']);
  });

  it('refuses a changed definition that routes the kept steps another way', async () => {
    const { engine, runId } = await original();
    const changed = loadDefinitionFromObject(
      { ...definition.workflow, steps: { ...definition.workflow.steps, fetch: { tool: 'fetch_order', with: { id: '{% $input.id %}' }, next: 'send' } } },
      [fetchOrder, ship],
      'orders, changed',
    );
    await expect(rerunRecord(engine, runId, 'send', { definition: changed })).rejects.toThrow(
      'the steps before "send" do not replay the same way on this definition: run ' + runId + ' went fetch → route → approval → fetch → route → approval → send, the definition goes fetch → send',
    );
  });

  it('reruns a rerun: the kept steps come from the run it reran', async () => {
    const { engine, log, runId } = await original();
    const second = await rerun(engine, runId, 'send');
    const third = await rerunRecord(engine, second.runId, 'send');
    const then = log.entering('send');
    expect(withoutStart(snapshotOf(third).context)).toEqual(withoutStart(then.context));
  });
});

describe('rerun keeps model steps as the machine recorded them', () => {
  let emu: Emulator;
  beforeAll(async () => {
    emu = await startEmulator({ seed: 1 });
  });
  afterAll(async () => {
    await emu.close();
  });

  it('reruns from a step after a choice and a wait: the kept model step keeps its usage and loop fingerprint', async () => {
    const definition = await loadDefinition('definitions/invoice-approval.yaml');
    const input = JSON.parse(readFileSync('definitions/invoice-approval.input.json', 'utf8')) as unknown;
    const log = snapshotLog();
    const engine = createEngine({ store: createMemoryStore(), clock: new ManualClock({ autoAdvance: true }), model: { baseURL: emu.url, apiKey: 'x', maxRetries: 0 }, inspect: log.inspect });
    const started = await engine.start(definition, { input });
    expect(started.waitingFor?.step).toBe('cfo_approval');
    const first = await engine.send(started.runId, 'APPROVE', { by: 'cfo' });
    expect(first.status).toBe('done');

    const record = await rerunRecord(engine, first.runId, 'pay');
    const snapshot = snapshotOf(record);
    const then = log.entering('pay');
    expect(withoutStart(snapshot.context)).toEqual(withoutStart(then.context));
    expect(snapshot.context.usage.totalTokens).toBeGreaterThan(0);
    expect(snapshot.context.fingerprints['extract']).toHaveLength(1);

    const again = await rerun(engine, first.runId, 'pay');
    expect(again.status).toBe('done');
    const { payment: _payment, ...kept } = first.output as Record<string, unknown>;
    expect(again.output).toMatchObject({ ...kept, payment: { approvedBy: 'cfo' } }); // the payment id comes from the new run's idempotency key
    expect(again.usage).toEqual(first.usage); // pay calls no model: the rerun's usage is the kept steps'
  });
});
