/**
 * The compiler: a definition → a plain XState machine. Driven directly with
 * the events the engine sends, no I/O; save/restore after XState's own
 * rehydration tests.
 */
import { describe, expect, it } from 'vitest';
import { createActor, type AnyActorRef } from 'xstate';
import { compile, machineSetup, runContext } from '../../src/compile/machine.js';
import { stepRunOf, type RunContext } from '../../src/compile/context.js';
import type { StepDoneEvent, StepFailedEvent, StepRunEvent } from '../../src/compile/events.js';
import { Workflow } from '../../src/definition/schema.js';
import { invoice } from './fixtures/invoice-workflow.js';
import type { ResolvedBudget } from '../../src/policy/budget.js';
import type { FailureKind, Usage } from '../../src/run/types.js';


const budget: ResolvedBudget = { tokens: 1000, usd: null, stopAt: 0.9 };
const usage = (input: number, output: number): Usage => ({ inputTokens: input, outputTokens: output, totalTokens: input + output, usd: 0 });
const zero = usage(0, 0);
const T0 = 1_000_000;

const run = (at: number, projectedTokens = 100): StepRunEvent => ({ type: 'step.run', at, projectedTokens, projectedUsd: 0 });
const done = (at: number, output: unknown, u: Usage = zero, fingerprint?: string): StepDoneEvent => ({
  type: 'step.done',
  at,
  output,
  usage: u,
  ...(fingerprint ? { fingerprint } : {}),
});
const failed = (at: number, retryable: boolean, u: Usage = zero, kind: FailureKind = 'invalid_data', message = 'bad input'): StepFailedEvent => ({
  type: 'step.failed',
  at,
  error: { kind, message },
  retryable,
  retryAt: at + 200,
  usage: u,
});

function start(workflow: Workflow = invoice, b: ResolvedBudget = budget) {
  return createActor(compile(workflow), { input: { input: { document: 'INV' }, budget: b, at: T0 } }).start();
}

const ctx = (actor: AnyActorRef) => actor.getSnapshot().context as RunContext;
const value = (actor: AnyActorRef) => actor.getSnapshot().value as unknown;
/** The per-step state (attempt, retryAt) of the step the run is at. */
const current = (actor: AnyActorRef) => stepRunOf(ctx(actor), ctx(actor).trail[ctx(actor).trail.length - 1]!.id);

/** Extract and validate succeed; the run is at the choice. */
function toRoute(actor: AnyActorRef, total = 12500) {
  actor.send(run(T0 + 1));
  actor.send(done(T0 + 2, { vendorId: 'V-1001', total }, usage(300, 50)));
  actor.send(run(T0 + 3, 0));
  actor.send(done(T0 + 4, { status: 'active' }));
}

describe('compile()', () => {
  it('names the states after the step ids, plus the done, failed and cancelled states', () => {
    const machine = compile(invoice);
    expect(Object.keys(machine.states).sort()).toEqual([...Object.keys(invoice.steps), '$cancelled', '$done', '$failed'].sort());
    // Work steps are compound: ready → running → retrying | failed | budget_exhausted.
    expect(Object.keys(machine.states['extract']!.states).sort()).toEqual(['budget_exhausted', 'failed', 'ready', 'retrying', 'running']);
    expect(machine.states['extract']!.meta).toEqual({ stepwise: { kind: 'claude' } });
    // A final step evaluates its output first: `final.done` ends the run in `$done`, `final.failed` in `$failed`.
    expect(machine.states['done']!.type).toBe('atomic');
    expect(machine.states['done']!.meta).toEqual({ stepwise: { kind: 'final' } });
    expect(machine.states['$done']!.type).toBe('final');
  });

  it('uses named guards and actions', () => {
    const machine = compile(invoice);
    expect(Object.keys(machine.implementations.guards)).toEqual(expect.arrayContaining(['branch', 'canRetry', 'repeatedInput', 'visitLimitReached', 'withinBudget']));
    expect(Object.keys(machine.implementations.actions)).toEqual(
      expect.arrayContaining(['enterStep', 'startAttempt', 'chargeUsage', 'recordOutput', 'scheduleRetry', 'routeError', 'failStep', 'exhaustBudget', 'resumeRun', 'recordEvent', 'recordChoice', 'cancelRun']),
    );
    // Transitions refer to them by name (readable in the Stately inspector), never inline functions.
    const json = JSON.stringify(machine.toJSON());
    expect(json).toContain('"guard":"withinBudget"');
    expect(json).toContain('"guard":{"type":"canRetry","params":{"maxAttempts":3}}');
    expect(json).toContain('{"type":"completeStep","params":{"step":"extract"}}');
    const guardsOf = (node: { transitions: Array<{ guard?: unknown }>; states: Record<string, unknown> }): unknown[] => [
      ...node.transitions.map((t) => t.guard).filter((g) => g !== undefined),
      ...Object.values(node.states).flatMap((child) => guardsOf(child as never)),
    ];
    const all = guardsOf(machine.toJSON() as never);
    expect(all.length).toBeGreaterThan(0);
    for (const guard of all) expect(typeof guard === 'string' || (typeof guard === 'object' && guard !== null && 'type' in guard)).toBe(true);
  });

  it('is pure: the definition is not changed and compiling twice gives the same machine', () => {
    const frozen = structuredClone(invoice);
    const deepFreeze = (o: unknown): void => {
      if (o && typeof o === 'object') {
        Object.freeze(o);
        for (const v of Object.values(o)) deepFreeze(v);
      }
    };
    deepFreeze(frozen);
    const a = compile(frozen);
    const b = compile(frozen);
    expect(frozen).toEqual(invoice);
    expect(JSON.stringify(a.toJSON())).toBe(JSON.stringify(b.toJSON()));
  });

  it('starts at the first step, ready, with its first visit counted', () => {
    const actor = start();
    expect(value(actor)).toEqual({ extract: 'ready' });
    const c = ctx(actor);
    expect(c.visits).toEqual({ extract: 1 });
    expect(stepRunOf(c, 'extract').attempt).toBe(0);
    expect(c.input).toEqual({ document: 'INV' });
    expect(c.startedAt).toBe(T0);
    expect(c.trail).toEqual([
      { id: 'extract', visit: 1, status: 'running', attempts: 0, tokens: 0, inputTokens: 0, outputTokens: 0, startedAt: T0, endedAt: null },
    ]);
  });

  it('runs a work step: step.run → running, step.done → next step with output and usage recorded', () => {
    const actor = start();
    actor.send(run(T0 + 1));
    expect(value(actor)).toEqual({ extract: 'running' });
    expect(current(actor).attempt).toBe(1);
    actor.send(done(T0 + 5, { vendorId: 'V-1001', total: 12500 }, usage(300, 50)));
    expect(value(actor)).toEqual({ validate: 'ready' });
    const c = ctx(actor);
    expect(c.steps['extract']).toEqual({ output: { vendorId: 'V-1001', total: 12500 }, status: 'done', visit: 1, attempts: 1 });
    expect(c.usage).toEqual(usage(300, 50));
    expect(c.trail[0]).toMatchObject({ id: 'extract', status: 'done', attempts: 1, tokens: 350, inputTokens: 300, outputTokens: 50, endedAt: T0 + 5 });
    expect(c.trail[1]).toMatchObject({ id: 'validate', visit: 1, status: 'running', startedAt: T0 + 5 });
  });

  it('retries a retryable failure: retrying → step.retry → ready, attempts and usage add up', () => {
    const actor = start();
    actor.send(run(T0 + 1));
    actor.send(failed(T0 + 2, true, usage(100, 10)));
    expect(value(actor)).toEqual({ extract: 'retrying' });
    expect(current(actor).retryAt).toBe(T0 + 202);
    expect(ctx(actor).lastError).toEqual({ kind: 'invalid_data', message: 'bad input', step: 'extract' });
    actor.send(run(T0 + 3)); // not accepted while the backoff is pending
    expect(value(actor)).toEqual({ extract: 'retrying' });
    actor.send({ type: 'step.retry', at: T0 + 202 });
    expect(value(actor)).toEqual({ extract: 'ready' });
    // The last error stays for the prompt of the next attempt (validation feedback).
    expect(ctx(actor).lastError?.message).toBe('bad input');
    actor.send(run(T0 + 203));
    expect(current(actor).attempt).toBe(2);
    actor.send(done(T0 + 204, { vendorId: 'V-1001', total: 1 }, usage(120, 20)));
    expect(value(actor)).toEqual({ validate: 'ready' });
    const c = ctx(actor);
    expect(c.usage).toEqual(usage(220, 30));
    expect(c.steps['extract']).toMatchObject({ status: 'done', attempts: 2 });
    expect(c.trail[0]).toMatchObject({ attempts: 2, tokens: 250, status: 'done' });
  });

  it('fails the step as retries_exhausted after maxAttempts retryable failures', () => {
    const actor = start();
    for (let attempt = 1; attempt <= 3; attempt++) {
      actor.send(run(T0 + attempt * 10));
      actor.send(failed(T0 + attempt * 10 + 1, true, usage(10, 1)));
      if (attempt < 3) {
        expect(value(actor)).toEqual({ extract: 'retrying' });
        actor.send({ type: 'step.retry', at: T0 + attempt * 10 + 5 });
      }
    }
    expect(value(actor)).toEqual({ extract: 'failed' });
    const c = ctx(actor);
    expect(c.failure).toEqual({ kind: 'retries_exhausted', step: 'extract', message: 'bad input (after 3 attempts; last: invalid_data)' });
    expect(c.steps['extract']).toMatchObject({ status: 'failed', attempts: 3, error: { kind: 'invalid_data', message: 'bad input' } });
    expect(c.usage.totalTokens).toBe(33);
  });

  it('fails at once on a non-retryable failure, keeping its kind', () => {
    const actor = start();
    actor.send(run(T0 + 1));
    actor.send(failed(T0 + 2, false, usage(5, 0), 'refusal', 'declined'));
    expect(value(actor)).toEqual({ extract: 'failed' });
    expect(ctx(actor).failure).toEqual({ kind: 'refusal', step: 'extract', message: 'declined' });
    expect(ctx(actor).usage.totalTokens).toBe(5);
  });

  it('takes the onError route when a step fails for good', () => {
    const actor = start();
    actor.send(run(T0 + 1));
    actor.send(done(T0 + 2, { vendorId: 'V-9999', total: 5 }));
    actor.send(run(T0 + 3, 0));
    actor.send(failed(T0 + 4, false, zero, 'tool_error', 'check_vendor: vendor V-9999 is not in the ERP'));
    expect(value(actor)).toBe('manual_review');
    const c = ctx(actor);
    expect(c.failure).toBeNull();
    expect(c.steps['validate']).toMatchObject({ status: 'failed', error: { kind: 'tool_error' } });
    expect(c.trail.map((e) => [e.id, e.status])).toEqual([
      ['extract', 'done'],
      ['validate', 'failed'],
      ['manual_review', 'waiting'],
    ]);
  });

  it('stops in budget_exhausted when the projected call does not fit, and run.resume with a bigger budget continues', () => {
    const actor = start();
    actor.send(run(T0 + 1, 901)); // 0.9 × 1000 = 900
    expect(value(actor)).toEqual({ extract: 'budget_exhausted' });
    expect(ctx(actor).failure).toMatchObject({ kind: 'budget', step: 'extract' });
    expect(current(actor).attempt).toBe(0);
    actor.send(run(T0 + 2, 1)); // ignored until resumed
    expect(value(actor)).toEqual({ extract: 'budget_exhausted' });
    actor.send({ type: 'run.resume', at: T0 + 3, budget: { tokens: 5000, usd: null, stopAt: 0.9 } });
    expect(value(actor)).toEqual({ extract: 'ready' });
    expect(ctx(actor).failure).toBeNull();
    expect(ctx(actor).budget.tokens).toBe(5000);
    actor.send(run(T0 + 4, 901));
    expect(value(actor)).toEqual({ extract: 'running' });
  });

  it('a retry refused by the budget and resumed is the next attempt, with maxAttempts again', () => {
    const actor = start();
    actor.send(run(T0 + 1));
    actor.send(failed(T0 + 2, true));
    actor.send({ type: 'step.retry', at: T0 + 202 });
    actor.send(run(T0 + 203, 901));
    expect(value(actor)).toEqual({ extract: 'budget_exhausted' });
    expect(current(actor).attempt).toBe(1); // the refused attempt never started
    actor.send({ type: 'run.resume', at: T0 + 300, budget: { tokens: 5000, usd: null, stopAt: 0.9 } });
    for (let attempt = 2; attempt <= 4; attempt++) {
      actor.send(run(T0 + attempt * 1000, 901));
      expect(current(actor).attempt).toBe(attempt);
      actor.send(failed(T0 + attempt * 1000 + 1, true));
      if (attempt < 4) actor.send({ type: 'step.retry', at: T0 + attempt * 1000 + 500 });
    }
    expect(value(actor)).toEqual({ extract: 'failed' });
    expect(ctx(actor).failure?.message).toBe('bad input (after 3 attempts since the resume; last: invalid_data)');
  });

  it('allows a call that lands exactly on stopAt × budget', () => {
    const actor = start();
    actor.send(run(T0 + 1, 900));
    expect(value(actor)).toEqual({ extract: 'running' });
  });

  it('a failed step accepts run.resume: its next attempt goes on past the last one, and it has maxAttempts again', () => {
    const actor = start();
    actor.send(run(T0 + 1));
    actor.send(failed(T0 + 2, false, zero, 'tool_error', 'down'));
    expect(value(actor)).toEqual({ extract: 'failed' });
    actor.send({ type: 'run.resume', at: T0 + 3, budget });
    expect(value(actor)).toEqual({ extract: 'ready' });
    expect(current(actor)).toMatchObject({ attempt: 1, resumedAfter: 1, retryAt: null });
    expect(ctx(actor).trail.at(-1)).toMatchObject({ id: 'extract', status: 'running', endedAt: null, attempts: 1 });
    // Three attempts after the resume (the invoice's maxAttempts), numbered 2 to 4.
    for (let attempt = 2; attempt <= 4; attempt++) {
      actor.send(run(T0 + attempt * 10));
      expect(current(actor).attempt).toBe(attempt);
      actor.send(failed(T0 + attempt * 10 + 1, true));
      if (attempt < 4) {
        expect(value(actor)).toEqual({ extract: 'retrying' });
        actor.send({ type: 'step.retry', at: T0 + attempt * 10 + 5 });
      }
    }
    expect(value(actor)).toEqual({ extract: 'failed' });
    expect(ctx(actor).failure).toEqual({ kind: 'retries_exhausted', step: 'extract', message: 'bad input (after 3 attempts since the resume; last: invalid_data)' });
    expect(ctx(actor).steps['extract']).toMatchObject({ status: 'failed', attempts: 4 });
    expect(ctx(actor).trail.at(-1)).toMatchObject({ id: 'extract', attempts: 4 });
  });

  it('routes a choice by the branch index the engine evaluated', () => {
    for (const [index, target] of [
      [0, 'rejected'],
      [1, 'cfo_approval'],
      [2, { pay: 'ready' }],
    ] as const) {
      const actor = start();
      toRoute(actor);
      expect(value(actor)).toBe('route');
      actor.send({ type: 'choice.take', at: T0 + 5, index });
      expect(value(actor)).toEqual(target);
      expect(ctx(actor).steps['route']).toMatchObject({ output: { branch: index }, status: 'done' });
    }
  });

  it('fails the run when no branch matches', () => {
    const actor = start();
    toRoute(actor);
    actor.send({ type: 'choice.none', at: T0 + 5 });
    expect(value(actor)).toBe('$failed');
    expect(ctx(actor).failure).toEqual({ kind: 'invalid_data', step: 'route', message: 'no branch of choice "route" matched' });
  });

  it('waits for the events it lists: APPROVE goes on, other events change nothing', () => {
    const actor = start();
    toRoute(actor);
    actor.send({ type: 'choice.take', at: T0 + 5, index: 1 });
    expect(value(actor)).toBe('cfo_approval');
    const before = actor.getSnapshot();
    actor.send({ type: 'CANCEL_ORDER', at: T0 + 6 });
    actor.send(run(T0 + 6));
    expect(actor.getSnapshot()).toBe(before);
    actor.send({ type: 'APPROVE', at: T0 + 7, data: { by: 'cfo' } });
    expect(value(actor)).toEqual({ pay: 'ready' });
    const c = ctx(actor);
    expect(c.event).toEqual({ type: 'APPROVE', data: { by: 'cfo' } });
    expect(c.steps['cfo_approval']).toMatchObject({ status: 'done', event: 'APPROVE', output: { by: 'cfo' } });
    actor.send(run(T0 + 8, 0));
    actor.send(done(T0 + 9, { paymentId: 'P-1' }));
    expect(value(actor)).toBe('done');
    expect(actor.getSnapshot().status).toBe('active'); // the output is still to be evaluated
    actor.send({ type: 'final.done', at: T0 + 9 });
    expect(value(actor)).toBe('$done');
    expect(actor.getSnapshot().status).toBe('done');
    expect(ctx(actor).trail.map((e) => e.id)).toEqual(['extract', 'validate', 'route', 'cfo_approval', 'pay', 'done']);
  });

  it('a final step whose output fails ends the run $failed with kind invalid_data at that step', () => {
    const actor = start();
    toRoute(actor);
    actor.send({ type: 'choice.take', at: T0 + 5, index: 1 });
    actor.send({ type: 'REJECT', at: T0 + 6 });
    expect(value(actor)).toBe('rejected');
    actor.send({ type: 'final.failed', at: T0 + 7, message: 'the output of final step "rejected" failed: Expression `x` failed' });
    expect(value(actor)).toBe('$failed');
    expect(actor.getSnapshot().status).toBe('active');
    expect(ctx(actor).failure).toEqual({ kind: 'invalid_data', step: 'rejected', message: 'the output of final step "rejected" failed: Expression `x` failed' });
    expect(ctx(actor).trail.at(-1)).toMatchObject({ id: 'rejected', status: 'failed' });
  });

  it('takes the onTimeout route on wait.timeout, and fails the run when there is none', () => {
    const actor = start();
    toRoute(actor);
    actor.send({ type: 'choice.take', at: T0 + 5, index: 1 });
    actor.send({ type: 'wait.timeout', at: T0 + 3_600_005 });
    expect(value(actor)).toBe('escalated');
    expect(ctx(actor).steps['cfo_approval']).toMatchObject({ status: 'skipped', event: 'TIMEOUT' });

    const other = start();
    other.send(run(T0 + 1));
    other.send(done(T0 + 2, { vendorId: 'V-9' }));
    other.send(run(T0 + 3, 0));
    other.send(failed(T0 + 4, false, zero, 'tool_error', 'unknown vendor'));
    expect(value(other)).toBe('manual_review');
    other.send({ type: 'wait.timeout', at: T0 + 5 });
    expect(value(other)).toBe('$failed');
    expect(ctx(other).failure).toMatchObject({ kind: 'deadline', step: 'manual_review' });
    expect(ctx(other).trail.at(-1)).toMatchObject({ id: 'manual_review', status: 'failed', endedAt: T0 + 5 });
  });

  it('cancels from any state', () => {
    const actor = start();
    actor.send(run(T0 + 1));
    actor.send({ type: 'run.cancel', at: T0 + 2, reason: 'user asked' });
    expect(value(actor)).toBe('$cancelled');
    expect(actor.getSnapshot().status).toBe('done');
    expect(ctx(actor).failure).toEqual({ kind: 'cancelled', step: 'extract', message: 'user asked' });
    // The open visit is closed: a cancelled run reports no step as still running.
    expect(ctx(actor).trail).toEqual([expect.objectContaining({ id: 'extract', status: 'skipped', endedAt: T0 + 2 })]);
  });

  it('cancelling a waiting run closes the wait, and leaves finished visits as they were', () => {
    const actor = start();
    toRoute(actor);
    actor.send({ type: 'choice.take', at: T0 + 5, index: 1 });
    actor.send({ type: 'run.cancel', at: T0 + 9, reason: 'withdrawn' });
    expect(ctx(actor).trail.map((e) => [e.id, e.status, e.endedAt])).toEqual([
      ['extract', 'done', T0 + 2],
      ['validate', 'done', T0 + 4],
      ['route', 'done', T0 + 4],
      ['cfo_approval', 'skipped', T0 + 9],
    ]);
  });

  it('a run failing at a wait or a choice marks that visit failed', () => {
    const atChoice = start();
    toRoute(atChoice);
    atChoice.send({ type: 'choice.none', at: T0 + 5 });
    expect(ctx(atChoice).trail.at(-1)).toMatchObject({ id: 'route', status: 'failed', endedAt: T0 + 4 });

    const atWait = start();
    atWait.send(run(T0 + 1));
    atWait.send(done(T0 + 2, { vendorId: 'V-9' }));
    atWait.send(run(T0 + 3, 0));
    atWait.send(failed(T0 + 4, false, zero, 'tool_error', 'unknown vendor'));
    atWait.send({ type: 'run.deadline', at: T0 + 50 });
    expect(value(atWait)).toBe('$failed');
    expect(ctx(atWait).trail.at(-1)).toMatchObject({ id: 'manual_review', status: 'failed', endedAt: T0 + 50 });
  });

  it('stops a step visited more often than maxVisits as a loop', () => {
    const loop = Workflow.parse({
      id: 'loop',
      steps: {
        ask: { claude: { tool: 't', prompt: 'p' }, next: 'again', maxVisits: 2 },
        again: { choice: [{ next: 'ask' }] },
      },
    });
    const actor = start(loop);
    for (let visit = 1; visit <= 2; visit++) {
      actor.send(run(T0 + visit));
      actor.send(done(T0 + visit, { n: visit }, zero, `fp-${visit}`));
      expect(value(actor)).toBe('again');
      actor.send({ type: 'choice.take', at: T0 + visit, index: 0 });
    }
    expect(ctx(actor).visits['ask']).toBe(3);
    actor.send(run(T0 + 10));
    expect(value(actor)).toEqual({ ask: 'failed' });
    expect(ctx(actor).failure).toEqual({ kind: 'loop', step: 'ask', message: 'step "ask" was visited more than 2 times' });
  });

  it('stops a step that produces the same tool input more than limits.repeatedInputs times', () => {
    const loop = Workflow.parse({
      id: 'repeat',
      limits: { repeatedInputs: 2, maxVisits: 50 },
      steps: {
        ask: { claude: { tool: 't', prompt: 'p' }, next: 'again' },
        again: { choice: [{ next: 'ask' }] },
      },
    });
    const actor = start(loop);
    for (let visit = 1; visit <= 2; visit++) {
      actor.send(run(T0 + visit));
      actor.send(done(T0 + visit, { same: true }, zero, 'same'));
      expect(value(actor)).toBe('again');
      actor.send({ type: 'choice.take', at: T0 + visit, index: 0 });
    }
    actor.send(run(T0 + 10));
    actor.send(done(T0 + 11, { same: true }, usage(7, 3), 'same'));
    expect(value(actor)).toEqual({ ask: 'failed' });
    expect(ctx(actor).failure).toMatchObject({ kind: 'loop', step: 'ask' });
    expect(ctx(actor).fingerprints['ask']).toEqual(['same', 'same', 'same']);
    expect(ctx(actor).usage.totalTokens).toBe(10);
  });
});

describe('completeStep', () => {
  /** A one-step machine whose `step.done` takes `actions`; the context after `events`. */
  function contextAfter(actions: 'completeStep' | 'apart', events: readonly StepDoneEvent[], prior: Partial<RunContext> = {}): RunContext {
    const params = { step: 'a' };
    const machine = machineSetup.createMachine({
      id: 'wf',
      initial: 'a',
      context: ({ input }) => ({ ...runContext(input), ...prior }),
      states: {
        a: {
          entry: [{ type: 'enterStep', params: { step: 'a', status: 'running' } }, { type: 'startAttempt', params }],
          on: {
            'step.done': {
              target: 'a',
              reenter: true,
              actions:
                actions === 'completeStep'
                  ? { type: 'completeStep', params }
                  : [{ type: 'chargeUsage', params }, { type: 'rememberInput', params }, { type: 'recordOutput', params }],
            },
          },
        },
      },
    });
    const actor = createActor(machine, { input: { input: {}, budget, at: T0 } }).start();
    for (const event of events) actor.send(event);
    return actor.getSnapshot().context;
  }

  it('leaves the context chargeUsage, rememberInput and recordOutput leave, one after the other', () => {
    const cases: Array<{ events: StepDoneEvent[]; prior?: Partial<RunContext> }> = [
      { events: [done(T0 + 1, { a: 1 })] },
      { events: [done(T0 + 1, { a: 1 }, usage(300, 50), 'fp-1'), done(T0 + 2, null, zero, 'fp-1')] },
      { events: [{ ...done(T0 + 1, 'x', { ...usage(120, 30), usd: 0.0123, cacheReadInputTokens: 80, cacheCreationInputTokens: 5 }), estimatedInput: 100 }] },
      { events: [done(T0 + 1, [1, 2], zero)], prior: { usage: { ...usage(10, 5), cacheReadInputTokens: 3 } } },
    ];
    for (const { events, prior } of cases) {
      const together = contextAfter('completeStep', events, prior);
      expect(together).toEqual(contextAfter('apart', events, prior));
      expect(together.steps['a']).toMatchObject({ status: 'done', output: (events[events.length - 1] as StepDoneEvent).output });
    }
    // The cases do charge and remember: the comparison is not between two contexts that ignore the event.
    const charged = contextAfter('completeStep', [done(T0 + 1, { a: 1 }, usage(300, 50), 'fp-1')]);
    expect(charged.usage).toEqual(usage(300, 50));
    expect(charged.fingerprints['a']).toEqual(['fp-1']);
    expect(charged.trail[0]).toMatchObject({ tokens: 350, status: 'done', endedAt: T0 + 1 });
  });
});

describe('save and restore (rehydration)', () => {
  /** Persist, pass through JSON like a store does, and restore into a new actor. */
  function rehydrate(actor: AnyActorRef, workflow: Workflow = invoice) {
    const persisted = JSON.parse(JSON.stringify(actor.getPersistedSnapshot()));
    actor.stop();
    return createActor(compile(workflow), { snapshot: persisted }).start();
  }

  it('restores a run waiting for approval with the same state and context, and it continues', () => {
    const actor = start();
    toRoute(actor);
    actor.send({ type: 'choice.take', at: T0 + 5, index: 1 });
    const before = { value: value(actor), context: ctx(actor) };
    const restored = rehydrate(actor);
    expect(value(restored)).toEqual(before.value);
    expect(ctx(restored)).toEqual(before.context);
    expect(restored.getSnapshot().can({ type: 'APPROVE', at: 0 })).toBe(true);
    expect(restored.getSnapshot().can({ type: 'step.run', at: 0, projectedTokens: 0, projectedUsd: 0 })).toBe(false);
    restored.send({ type: 'REJECT', at: T0 + 6 });
    expect(value(restored)).toBe('rejected');
    restored.send({ type: 'final.done', at: T0 + 6 });
    expect(restored.getSnapshot().status).toBe('done');
  });

  it('restores mid-retry and goes on counting attempts and usage', () => {
    const actor = start();
    actor.send(run(T0 + 1));
    actor.send(failed(T0 + 2, true, usage(40, 2)));
    const restored = rehydrate(actor);
    expect(value(restored)).toEqual({ extract: 'retrying' });
    expect(current(restored).attempt).toBe(1);
    expect(current(restored).retryAt).toBe(T0 + 202);
    restored.send({ type: 'step.retry', at: T0 + 202 });
    restored.send(run(T0 + 203));
    expect(current(restored).attempt).toBe(2);
    restored.send(done(T0 + 204, { vendorId: 'V-1001', total: 3 }, usage(50, 5)));
    expect(value(restored)).toEqual({ validate: 'ready' });
    expect(ctx(restored).usage).toEqual(usage(90, 7));
    expect(ctx(restored).trail[0]).toMatchObject({ attempts: 2, tokens: 97 });
  });

  it('restores a resumed step with the attempts before its resume, and the policy counts from there', () => {
    const actor = start();
    actor.send(run(T0 + 1));
    actor.send(failed(T0 + 2, false, zero, 'tool_error', 'down'));
    actor.send({ type: 'run.resume', at: T0 + 3, budget });
    actor.send(run(T0 + 4));
    actor.send(failed(T0 + 5, true));
    const restored = rehydrate(actor);
    expect(value(restored)).toEqual({ extract: 'retrying' });
    expect(current(restored)).toMatchObject({ attempt: 2, resumedAfter: 1 });
    restored.send({ type: 'step.retry', at: T0 + 205 });
    restored.send(run(T0 + 206));
    restored.send(failed(T0 + 207, true));
    expect(value(restored)).toEqual({ extract: 'retrying' }); // 2 of 3 since the resume
    restored.send({ type: 'step.retry', at: T0 + 407 });
    restored.send(run(T0 + 408));
    expect(current(restored).attempt).toBe(4);
  });

  it('restores a snapshot stored before resumes were counted (no resumedAfter): its attempts count as they did', () => {
    const actor = start();
    actor.send(run(T0 + 1));
    actor.send(failed(T0 + 2, true));
    const persisted = JSON.parse(JSON.stringify(actor.getPersistedSnapshot()));
    actor.stop();
    // A run an older version resumed: its attempts were numbered from 1 again and nothing recorded the resume.
    const older = { ...persisted, context: { ...(persisted.context as RunContext), active: { extract: { attempt: 1, retryAt: T0 + 202, enteredAt: T0 } } } };
    const restored = createActor(compile(invoice), { snapshot: older }).start();
    restored.send({ type: 'step.retry', at: T0 + 202 });
    restored.send(run(T0 + 203));
    restored.send(failed(T0 + 204, true));
    expect(value(restored)).toEqual({ extract: 'retrying' });
    restored.send({ type: 'step.retry', at: T0 + 404 });
    restored.send(run(T0 + 405));
    restored.send(failed(T0 + 406, true));
    expect(value(restored)).toEqual({ extract: 'failed' });
    expect(ctx(restored).failure?.message).toBe('bad input (after 3 attempts; last: invalid_data)');
    restored.send({ type: 'run.resume', at: T0 + 500, budget });
    expect(current(restored)).toMatchObject({ attempt: 3, resumedAfter: 3 });
    restored.send(run(T0 + 501));
    expect(current(restored).attempt).toBe(4);
  });

  it('restores a budget-exhausted run, which a resume then continues', () => {
    const actor = start();
    actor.send(run(T0 + 1, 5000));
    const restored = rehydrate(actor);
    expect(value(restored)).toEqual({ extract: 'budget_exhausted' });
    expect(ctx(restored).failure?.kind).toBe('budget');
    restored.send({ type: 'run.resume', at: T0 + 2, budget: { tokens: 50_000, usd: null, stopAt: 0.9 } });
    restored.send(run(T0 + 3, 5000));
    expect(value(restored)).toEqual({ extract: 'running' });
  });

  it('restores a finished run as finished', () => {
    const actor = start();
    toRoute(actor, 10);
    actor.send({ type: 'choice.take', at: T0 + 5, index: 2 });
    actor.send(run(T0 + 6, 0));
    actor.send(done(T0 + 7, { paymentId: 'P' }));
    actor.send({ type: 'final.done', at: T0 + 7 });
    const restored = rehydrate(actor);
    expect(value(restored)).toBe('$done');
    expect(restored.getSnapshot().status).toBe('done');
    expect(ctx(restored).steps['pay']?.output).toEqual({ paymentId: 'P' });
  });
});
