/**
 * The approval inbox: every step of every run that waits for a person, newest
 * first — a `wait` step (with its evaluated `show` data) or a `claude` step
 * under review (with the tool, its input schema, the proposed input and the
 * prompt as the model was sent it, read from the snapshot). One
 * entry per waiting active step, so each parallel branch that waits is its own.
 * A step whose window has closed (./window.ts) is left out: an event sent to
 * it would be refused, as its timer fires first.
 */
import { stepRunOf } from '../compile/context.js';
import { activeStepsOf, deadlineAt, waitEvents, waitsIn, waitTimeoutAt } from '../engine/position.js';
import { snapshotOf } from '../engine/view.js';
import type { RunRecord } from '../run/types.js';
import type { RunReader } from './reader.js';
import { iso } from './run.js';
import { stepOf } from '../definition/sequences.js';
import { runClosesAt } from './window.js';

/** One step waiting for a person (the shape of `GET /api/inbox` entries and `stepwise inbox --json`). */
export interface InboxEntry {
  readonly runId: string;
  readonly workflow: string;
  readonly step: string;
  /** `review`: a tool input the model proposed awaits APPROVE or REJECT; `wait`: a wait step's events. */
  readonly kind: 'review' | 'wait';
  readonly waitingSince: number;
  readonly waitingSinceIso: string;
  /** The event types the step accepts now. */
  readonly events: readonly string[];
  readonly tool?: string;
  /** The tool's input JSON Schema, what an edited input must match. */
  readonly schema?: Record<string, unknown>;
  readonly proposed?: unknown;
  /** A wait's evaluated `show` data. */
  readonly show?: unknown;
  /** What the step asks: a reviewed step's prompt as the model was sent it (templates evaluated, at most REVIEW_PROMPT_MAX_CHARS), a wait step's description. */
  readonly prompt?: string;
}

export interface InboxFilter {
  readonly workflow?: string;
  readonly limit?: number;
  /**
   * When the inbox is read (epoch ms; default the system clock's now): a step whose window has closed by then (its
   * wait's `timeout`, its run's or a parent run's `deadline`) is left out, as an event sent to it would be refused.
   */
  readonly now?: number;
}

/**
 * The entries of one run: its active steps that wait for a person. With `now`, only those whose window is still open
 * then: not past its wait's `timeout` nor the run's `deadline` (a parent run's deadline is {@link inbox}'s to check).
 */
export function inboxEntries(record: RunRecord, now?: number): InboxEntry[] {
  // A run with one active step waits when its status says so; with several (parallel branches) a branch waits while others run.
  const workflow = record.definition.workflow;
  const snapshot = snapshotOf(record);
  const { steps } = activeStepsOf(workflow, snapshot);
  if (record.status !== 'waiting' && !(record.status === 'running' && steps.length > 1)) return [];
  if (now !== undefined && isClosed(deadlineAt(workflow, snapshot.context), now)) return [];
  const entries: InboxEntry[] = [];
  for (const active of steps.filter(waitsIn)) {
    const spec = stepOf(workflow, active.id);
    const state = stepRunOf(snapshot.context, active.id);
    const events = waitEvents(workflow, active.id, active.phase);
    if (!spec || events.length === 0) continue;
    if (now !== undefined && isClosed(waitTimeoutAt(workflow, active.id, snapshot.context), now)) continue;
    const base = { runId: record.id, workflow: record.workflow, step: active.id, events };
    if (state.review && !state.review.approved) {
      // The prompt as the model was sent it, kept with the review; a review recorded before it was kept shows the definition's text.
      const prompt = state.review.prompt ?? ('claude' in spec ? spec.claude.prompt : undefined);
      entries.push({
        ...base,
        kind: 'review',
        waitingSince: state.review.since,
        waitingSinceIso: iso(state.review.since),
        tool: state.review.tool,
        schema: state.review.schema,
        proposed: state.review.proposed,
        ...(prompt !== undefined ? { prompt } : {}),
      });
      continue;
    }
    entries.push({
      ...base,
      kind: 'wait',
      waitingSince: state.enteredAt,
      waitingSinceIso: iso(state.enteredAt),
      ...(state.shown && state.shown.error === undefined ? { show: state.shown.data } : {}),
      ...(spec.description !== undefined ? { prompt: spec.description } : {}),
    });
  }
  return entries;
}

/** A window that closes at `at` is closed from that instant on (a wait times out at its `timeoutAt`). */
const isClosed = (at: number | null, now: number) => at !== null && at <= now;

/**
 * The steps waiting for a person across the store's runs (of one workflow,
 * if given), newest first; at most `limit` entries. A step whose window has
 * closed by `now` is left out (./window.ts): it drives nothing, so the run
 * still waits in the store until something fires its timer.
 *
 * @example
 * for (const entry of await inbox(engine.store)) console.log(entry.runId, entry.step, entry.events);
 */
export async function inbox(reader: RunReader, filter: InboxFilter = {}): Promise<InboxEntry[]> {
  const now = filter.now ?? Date.now();
  const records = await reader.list({ status: ['waiting', 'running'], ...(filter.workflow !== undefined ? { workflow: filter.workflow } : {}) });
  const closesAt = runClosesAt(reader, new Map(records.map((r) => [r.id, r])));
  const perRun = await Promise.all(
    records.map(async (record) => {
      const entries = inboxEntries(record, now);
      // A child run's steps close with the deadline of a run above it too: read only for a child with steps open.
      return entries.length > 0 && record.options.parent && isClosed(await closesAt(record), now) ? [] : entries;
    }),
  );
  const entries = perRun.flat().sort((a, b) => b.waitingSince - a.waitingSince || (a.runId < b.runId ? 1 : a.runId > b.runId ? -1 : 0));
  return filter.limit !== undefined ? entries.slice(0, filter.limit) : entries;
}
