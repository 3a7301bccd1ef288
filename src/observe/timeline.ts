/**
 * The timeline of a run, built from its journal: one row per step attempt
 * (its start and outcome merged, with duration, tokens in/out and cost) and
 * one per other event (choice, wait, retry scheduled, breaker, budget,
 * resume…), the failure point marked. `show` prints it; `show --json` gives
 * the same rows.
 */
import { promptTokens, type Failure, type JournalEntry } from '../run/types.js';
import { count } from '../util/plural.js';
import { roundUsd } from '../util/usd.js';

export interface TimelineRow {
  /** Milliseconds since the run was created. */
  readonly offsetMs: number;
  readonly step: string | null;
  readonly visit: number;
  readonly attempt: number;
  readonly event: JournalEntry['event'];
  /** From the attempt's start to its outcome. */
  readonly durationMs: number | null;
  /** Billed uncached input tokens (the reply's `usage.inputTokens`). */
  readonly inputTokens: number;
  /** The whole prompt the server counted: `inputTokens` plus the prompt-cache writes and reads (equal to it without caching). */
  readonly promptTokens: number;
  /** The local estimate of the same prompt (model attempts), or null: with `promptTokens`, how far the tokenizer differs. */
  readonly estimatedInput: number | null;
  readonly outputTokens: number;
  readonly usd: number;
  readonly detail: string;
  readonly error: { readonly kind: string; readonly message: string } | null;
  /** The row where the run failed or stopped. */
  readonly failurePoint: boolean;
}

export interface TimelineTotals {
  readonly attempts: number;
  readonly retries: number;
  readonly failedAttempts: number;
  readonly breakerEvents: number;
  readonly budgetEvents: number;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly usd: number;
  readonly durationMs: number;
}

export interface Timeline {
  readonly rows: readonly TimelineRow[];
  readonly totals: TimelineTotals;
}

const outcomes = new Set<JournalEntry['event']>(['completed', 'failed', 'loop_detected']);

function detailOf(e: JournalEntry): string {
  const data = (e.data ?? {}) as Record<string, unknown>;
  switch (e.event) {
    case 'retry_scheduled':
      return `retry in ${String(data['delayMs'] ?? '?')} ms`;
    case 'choice':
      return `branch ${String(data['branch'])} → ${String(data['next'])}`;
    case 'waiting': {
      // A map or workflow step whose children came to rest: the entry carries what they spent so far.
      if (data['resting'] === true) return `children ${data['waiting'] === true ? 'wait for an event' : 'rest'}; spent so far charged`;
      // A map or workflow step resting while its items (its child run) wait: what they wait for is in their own journals.
      if (typeof data['map'] === 'string') return 'its items wait for an event';
      if (typeof data['child'] === 'string') return `child run ${data['child']} waits for an event`;
      const events = `for ${((data['events'] as string[] | undefined) ?? []).join(' | ')}`;
      const review = data['review'] === true ? ` (review of ${JSON.stringify(e.input ?? null).slice(0, 80)})` : '';
      const show = data['show'] !== undefined ? ` show ${JSON.stringify(data['show']).slice(0, 80)}` : '';
      return `${events}${review}${show}`;
    }
    case 'event': {
      const edits = Array.isArray(data['edits']) && data['edits'].length > 0 ? ` edited ${data['edits'].map((c: { path?: unknown }) => String(c.path)).join(', ')}` : '';
      return `${String(data['type'])}${typeof data['by'] === 'string' ? ` by ${data['by']}` : ''}${edits}${data['data'] !== null && data['data'] !== undefined ? ` ${JSON.stringify(data['data']).slice(0, 60)}` : ''}`;
    }
    case 'breaker':
      return `breaker ${String(data['tool'])}: ${String(data['from'])} → ${String(data['to'])} after ${String(data['failures'])} failures`;
    case 'resumed':
      return data['budget'] ? `budget ${JSON.stringify(data['budget'])}` : '';
    case 'started':
      return data['rerun'] ? 'restarted after a crash' : '';
    case 'created':
      return data['rerunOf'] ? `rerun of ${String(data['rerunOf'])} from ${String(data['from'])}` : '';
    case 'cancelled':
      return String(data['reason'] ?? '');
    default:
      return '';
  }
}

/** The local estimate of an attempt's billed input, kept in its outcome's `data`. */
function estimatedOf(e: JournalEntry): number | null {
  const value = (e.data as { estimatedInput?: unknown } | undefined)?.estimatedInput;
  return typeof value === 'number' ? value : null;
}

/** `est. input 410, billed 533 (×1.30)`: how the model server's count of the whole prompt compares with the local estimate. */
function estimateDetail(row: TimelineRow): string {
  if (row.estimatedInput === null) return '';
  return `est. input ${row.estimatedInput}, billed ${row.promptTokens} (×${(row.promptTokens / row.estimatedInput).toFixed(2)})`;
}

/** Builds the timeline of a journal; `failure` (the run's) marks the failure point. */
export function buildTimeline(journal: readonly JournalEntry[], failure: Failure | null = null): Timeline {
  const t0 = journal[0]?.at ?? 0;
  const rows: TimelineRow[] = [];
  const open = new Map<string, { row: number; at: number }>();
  const key = (e: JournalEntry) => `${e.step}:${e.visit}:${e.attempt}`;
  for (const e of journal) {
    const base = {
      offsetMs: e.at - t0,
      step: e.step,
      visit: e.visit,
      attempt: e.attempt,
      event: e.event,
      durationMs: e.latencyMs ?? null,
      inputTokens: e.usage?.inputTokens ?? 0,
      promptTokens: e.usage ? promptTokens(e.usage) : 0,
      estimatedInput: estimatedOf(e),
      outputTokens: e.usage?.outputTokens ?? 0,
      usd: e.usage?.usd ?? 0,
      detail: detailOf(e),
      error: e.error ?? null,
      failurePoint: false,
    };
    const started = open.get(key(e));
    if (outcomes.has(e.event) && started) {
      open.delete(key(e));
      rows[started.row] = { ...base, offsetMs: started.at - t0, durationMs: e.at - started.at };
      continue;
    }
    if (e.event === 'started') open.set(key(e), { row: rows.length, at: e.at });
    rows.push(base);
  }
  if (failure) {
    for (let i = rows.length - 1; i >= 0; i--) {
      const row = rows[i]!;
      if (row.error && (failure.step === null || row.step === failure.step)) {
        rows[i] = { ...row, failurePoint: true };
        break;
      }
    }
  }
  const attempts = rows.filter((r) => r.event === 'started' || outcomes.has(r.event)).filter((r) => r.attempt > 0);
  const last = journal[journal.length - 1];
  return {
    rows,
    totals: {
      attempts: attempts.length,
      retries: rows.filter((r) => r.event === 'retry_scheduled').length,
      failedAttempts: attempts.filter((r) => r.error).length,
      breakerEvents: rows.filter((r) => r.event === 'breaker').length,
      budgetEvents: rows.filter((r) => r.event === 'budget_exhausted').length,
      inputTokens: rows.reduce((t, r) => t + r.inputTokens, 0),
      outputTokens: rows.reduce((t, r) => t + r.outputTokens, 0),
      usd: roundUsd(rows.reduce((t, r) => t + r.usd, 0)),
      durationMs: last ? last.at - t0 : 0,
    },
  };
}

export interface Paint {
  readonly red: (s: string) => string;
  readonly yellow: (s: string) => string;
  readonly dim: (s: string) => string;
  readonly bold: (s: string) => string;
}

const plain: Paint = { red: (s) => s, yellow: (s) => s, dim: (s) => s, bold: (s) => s };
const pad = (text: string, width: number) => (text.length >= width ? `${text} ` : text + ' '.repeat(width - text.length));
const BAR = 20;

/** A bar placing a row on the run's time axis. */
function bar(row: TimelineRow, total: number): string {
  if (total <= 0) return ' '.repeat(BAR);
  const from = Math.min(BAR - 1, Math.floor((row.offsetMs / total) * BAR));
  const width = row.durationMs ? Math.max(1, Math.round((row.durationMs / total) * BAR)) : 1;
  const to = Math.min(BAR, from + width);
  return ' '.repeat(from) + (row.durationMs ? '█' : '·').repeat(to - from) + ' '.repeat(BAR - to);
}

/** The timeline as terminal lines. */
export function renderTimeline(timeline: Timeline, paint: Paint = plain): string[] {
  const tokensOf = (r: TimelineRow) => (r.inputTokens || r.outputTokens ? `${r.inputTokens}/${r.outputTokens}` : '');
  // Columns as wide as their longest value (long step ids stay aligned), never narrower than before.
  const width = (least: number, values: string[]) => Math.max(least, ...values.map((v) => v.length + 2));
  const w = {
    offset: width(9, timeline.rows.map((r) => String(r.offsetMs))),
    step: width(16, timeline.rows.map((r) => r.step ?? '-')),
    event: width(17, timeline.rows.map((r) => r.event)),
    ms: width(7, timeline.rows.map((r) => String(r.durationMs ?? ''))),
    tokens: width(12, timeline.rows.map(tokensOf)),
  };
  const header = `${pad('+ms', w.offset)}${pad('time', BAR + 1)}${pad('step', w.step)}${pad('visit', 6)}${pad('try', 4)}${pad('event', w.event)}${pad('ms', w.ms)}${pad('in/out', w.tokens)}${pad('$', 9)}detail`;
  const lines = [paint.bold(header)];
  const total = Math.max(timeline.totals.durationMs, 1);
  for (const r of timeline.rows) {
    const tokens = tokensOf(r);
    const usd = r.usd ? r.usd.toFixed(4) : '';
    const detail = [r.error ? `${r.error.kind}: ${r.error.message}` : r.detail, estimateDetail(r)].filter(Boolean).join('; ');
    const line = `${pad(String(r.offsetMs), w.offset)}${bar(r, total)} ${pad(r.step ?? '-', w.step)}${pad(r.attempt || r.visit ? String(r.visit) : '', 6)}${pad(r.attempt ? String(r.attempt) : '', 4)}${pad(r.event, w.event)}${pad(r.durationMs !== null ? String(r.durationMs) : '', w.ms)}${pad(tokens, w.tokens)}${pad(usd, 9)}${detail}`;
    if (r.failurePoint) lines.push(paint.red(paint.bold(`${line}  ◀ failure point`)));
    else if (r.error) lines.push(paint.red(line));
    else if (r.event === 'retry_scheduled' || r.event === 'breaker' || r.event === 'budget_exhausted') lines.push(paint.yellow(line));
    else lines.push(line);
  }
  const t = timeline.totals;
  lines.push(
    paint.dim(
      `${count(t.attempts, 'attempt')}, ${count(t.retries, 'retry', 'retries')}, ${t.failedAttempts} failed, ${count(t.breakerEvents, 'breaker event')}, ${count(t.budgetEvents, 'budget stop')}; ${t.inputTokens} in / ${t.outputTokens} out tokens, $${t.usd.toFixed(4)}, ${t.durationMs} ms`,
    ),
  );
  return lines;
}
