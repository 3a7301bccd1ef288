/**
 * The embedding API on real SQLite files: events a run does not accept, input
 * validation, run id reuse, subscriptions, one step at a time, budget stops,
 * and invalid Claude input retried with the validation error fed back.
 */
import Anthropic from '@anthropic-ai/sdk';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/engine/clock.js';
import { createEngine } from '../../src/engine/engine.js';
import type { RunView } from '../../src/engine/view.js';
import { EventNotAcceptedError, StepwiseError } from '../../src/errors.js';
import { createSqliteStore } from '../../src/store/sqlite.js';
import { MODEL_TIMEOUT_MS } from '../budgets.js';
import { harness, inputOf, load, type Harness } from './helpers.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const invoiceInput = () => inputOf('invoice-approval.yaml');

describe('engine API', () => {
  it('send of an event the run is not waiting for throws EventNotAcceptedError and changes nothing', async () => {
    h = await harness();
    const engine = h.engine();
    const waiting = await engine.start(await load('invoice-approval.yaml'), { input: invoiceInput() });
    const before = await engine.store.get(waiting.runId);
    const journal = await engine.journal(waiting.runId);

    const error = await engine.send(waiting.runId, 'ESCALATE').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EventNotAcceptedError);
    expect(error).toMatchObject({ code: 'event_not_accepted' });
    expect((error as Error).message).toContain('it accepts APPROVE, REJECT');

    const after = await engine.store.get(waiting.runId);
    expect(after?.revision).toBe(before?.revision);
    expect(after).toEqual(before);
    expect(await engine.journal(waiting.runId)).toEqual(journal);

    // A finished run accepts no event at all.
    const done = await engine.send(waiting.runId, 'APPROVE');
    expect(done.status).toBe('done');
    const revision = (await engine.store.get(done.runId))?.revision;
    await expect(engine.send(done.runId, 'APPROVE')).rejects.toThrow(/not waiting for any event/);
    expect((await engine.store.get(done.runId))?.revision).toBe(revision);
  });

  it('rejects a run input that fails the definition input schema with input_invalid, creating nothing', async () => {
    h = await harness();
    const engine = h.engine();
    const error = await engine.start(await load('invoice-approval.yaml'), { input: { document: 42 } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StepwiseError);
    expect(error).toMatchObject({ code: 'input_invalid' });
    expect((error as Error).message).toContain('/document must be string');
    await expect(engine.start(await load('support-triage.yaml'), { input: {} })).rejects.toMatchObject({ code: 'input_invalid' });
    expect(await engine.list()).toEqual([]);
    expect(h.emu.stats().requests).toBe(0);
  });

  it('starting with a runId that exists returns the existing run and runs nothing again', async () => {
    h = await harness();
    const engine = h.engine();
    const definition = await load('invoice-approval.yaml');
    const first = await engine.start(definition, { input: invoiceInput(), runId: 'invoice-2041' });
    expect(first.runId).toBe('invoice-2041');
    const requests = h.emu.stats().requests;
    const journal = await engine.journal('invoice-2041');

    const again = await h.engine().start(definition, { input: { document: 'another document' }, runId: 'invoice-2041' });
    expect(again).toEqual(first);
    expect(h.emu.stats().requests).toBe(requests);
    expect(await engine.journal('invoice-2041')).toEqual(journal);
    expect(await engine.list()).toHaveLength(1);
  });

  it('subscribe gets a view at every commit until unsubscribed', async () => {
    h = await harness();
    const engine = h.engine();
    const views: RunView[] = [];
    const unsubscribe = engine.subscribe((view) => views.push(view));
    const waiting = await engine.start(await load('invoice-approval.yaml'), { input: invoiceInput() });
    expect(views.length).toBeGreaterThanOrEqual(2);
    expect(views.every((v) => v.runId === waiting.runId)).toBe(true);
    expect(views.at(-1)).toEqual(waiting);
    // Revisions only move forward: every view is a newer commit.
    const updated = views.map((v) => v.steps.length);
    expect(updated).toEqual([...updated].sort((a, b) => a - b));

    unsubscribe();
    const count = views.length;
    await engine.send(waiting.runId, 'APPROVE');
    expect(views).toHaveLength(count);
  });

  it('step() advances exactly one work step per call', async () => {
    h = await harness();
    const engine = h.engine();
    const created = await engine.start(await load('lead-enrichment.ts'), { input: inputOf('lead-enrichment.ts'), detach: true });
    expect(created.status).toBe('running');
    expect(h.emu.stats().requests).toBe(0);
    const completed = async () => (await engine.journal(created.runId)).filter((e) => e.event === 'completed').map((e) => e.step);

    const one = await engine.step(created.runId);
    expect(await completed()).toEqual(['company']);
    expect(one.status).toBe('running');
    expect(h.emu.stats().messages).toBe(0);

    // A second engine (as another function invocation would) continues from the stored snapshot.
    const two = await h.engine().step(created.runId);
    expect(await completed()).toEqual(['company', 'score']);
    expect(two.status).toBe('running');
    expect(h.emu.stats().messages).toBe(1);

    const three = await engine.step(created.runId);
    expect(await completed()).toEqual(['company', 'score', 'save']);
    expect(three.status).toBe('done');
    expect(three.output).toMatchObject({ lead: { saved: true, company: 'Example Corp', email: 'jane.doe@example.com' } });

    // A finished run does not move.
    expect(await engine.step(created.runId)).toEqual(three);
  });

  it('stops in budget_exhausted with a small budget and finishes after resume with a bigger one', async () => {
    h = await harness();
    const engine = h.engine();
    const stopped = await engine.start(await load('support-triage.yaml'), { input: inputOf('support-triage.yaml'), budget: 100 });
    expect(stopped.status).toBe('budget_exhausted');
    expect(stopped.resumable).toBe(true);
    expect(stopped.failure).toMatchObject({ kind: 'budget', step: 'classify' });
    expect(h.emu.stats().messages).toBe(0);
    const journal = await engine.journal(stopped.runId);
    expect(journal.at(-1)).toMatchObject({ event: 'budget_exhausted', step: 'classify' });

    const done = await h.engine().resume(stopped.runId, { budget: 50_000 });
    expect(done.status).toBe('done');
    expect(done.budget.tokens).toBe(50_000);
    expect(done.failure).toBeNull();
  });

  it('cancel ends a waiting run: no step is left waiting and no event is accepted', async () => {
    h = await harness();
    const engine = h.engine();
    const waiting = await engine.start(await load('invoice-approval.yaml'), { input: invoiceInput() });
    const cancelled = await engine.cancel(waiting.runId, 'withdrawn');
    expect(cancelled).toMatchObject({ status: 'cancelled', resumable: false, waitingFor: null, failure: { kind: 'cancelled', step: 'cfo_approval', message: 'withdrawn' } });
    expect(cancelled.steps.map((s) => s.status)).toEqual(['done', 'done', 'done', 'skipped']);
    expect(cancelled.steps.every((s) => s.endedAt !== null)).toBe(true);
    await expect(engine.send(waiting.runId, 'APPROVE')).rejects.toBeInstanceOf(EventNotAcceptedError);
    expect((await engine.journal(waiting.runId)).at(-1)).toMatchObject({ event: 'cancelled', data: { reason: 'withdrawn' } });
  });

  it('a wait whose timeout passed takes its onTimeout route when the run is resumed', async () => {
    h = await harness();
    const clock = new ManualClock();
    const store = createSqliteStore({ path: h.dbPath });
    h.stores.push(store);
    const engine = createEngine({ store, model: { baseURL: h.emu.url, apiKey: 'x', maxRetries: 0, timeoutMs: MODEL_TIMEOUT_MS }, clock });
    const waiting = await engine.start(await load('invoice-approval.yaml'), { input: invoiceInput() });
    expect(waiting.waitingFor?.timeoutAt).toBe(clock.now() + 72 * 3_600_000);
    expect((await engine.store.get(waiting.runId))?.wakeAt).toBe(waiting.waitingFor?.timeoutAt);

    // Not due yet: a resume leaves it waiting.
    clock.advance(71 * 3_600_000);
    expect((await engine.resume(waiting.runId)).status).toBe('waiting');

    clock.advance(3_600_000);
    const escalated = await engine.resume(waiting.runId);
    expect(escalated.status).toBe('done');
    expect(escalated.output).toEqual({ decision: 'escalated', reason: 'no decision within 72h' });
    expect(escalated.steps.find((s) => s.id === 'cfo_approval')?.status).toBe('skipped');
    const journal = await engine.journal(waiting.runId);
    expect(journal.filter((e) => e.event === 'timeout')).toEqual([expect.objectContaining({ step: 'cfo_approval' })]);
  });

  it('retries an invalid Claude input with the validation error fed back, then succeeds', async () => {
    const definition = await load('invoice-approval.yaml');
    /** Runs the invoice on an emulator that breaks about half the tool inputs, recording the prompts sent. */
    async function attempt(seed: number) {
      h = await harness({ seed, faults: 'invalid_input=0.5' });
      const prompts: string[] = [];
      const client = new Anthropic({
        baseURL: h.emu.url,
        apiKey: 'x',
        maxRetries: 0,
        fetch: async (url, init) => {
          const body = JSON.parse(String(init?.body)) as { messages: Array<{ content: string }> };
          prompts.push(body.messages[0]!.content);
          return fetch(url, init);
        },
      });
      const store = createSqliteStore({ path: h.dbPath });
      h.stores.push(store);
      const engine = createEngine({ store, model: client, clock: new ManualClock({ autoAdvance: true }) });
      const view = await engine.start(definition, { input: invoiceInput() });
      const extract = (await engine.journal(view.runId)).filter((e) => e.step === 'extract');
      return { view, prompts, extract };
    }
    // The first seed (deterministic) whose first extract attempt is broken and whose second is not.
    let run: Awaited<ReturnType<typeof attempt>> | null = null;
    for (let seed = 1; seed <= 20 && run === null; seed++) {
      const result = await attempt(seed);
      if (result.extract.map((e) => `${e.event}:${e.attempt}`).join(' ') === 'started:1 failed:1 retry_scheduled:1 started:2 completed:2') run = result;
      else {
        await h!.close();
        h = undefined;
      }
    }
    expect(run).not.toBeNull();
    const { view, prompts, extract } = run!;
    expect(view.status).toBe('waiting');
    expect(view.steps[0]).toMatchObject({ id: 'extract', status: 'done', attempts: 2 });

    const failed = extract[1]!;
    expect(failed.error?.kind).toBe('invalid_data');
    expect(failed.error?.message).toMatch(/^the input Claude gave for record_invoice is invalid: /);
    expect(failed.usage?.totalTokens).toBeGreaterThan(0);

    expect(prompts).toHaveLength(2);
    expect(prompts[0]).not.toContain('previous_attempt_rejected');
    expect(prompts[1]).toContain(`<previous_attempt_rejected>\n${failed.error!.message}\n`);
    // Both attempts are charged to the step and the run.
    expect(view.steps[0]!.tokens).toBe(failed.usage!.totalTokens + extract[4]!.usage!.totalTokens);
    expect(view.usage.totalTokens).toBe(view.steps[0]!.tokens);
  });
});
