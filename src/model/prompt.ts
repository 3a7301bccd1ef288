/**
 * Builds a step's prompt: its instructions, the values it declares in
 * `context:`, and a compact, bounded summary of the steps before it. Never the
 * raw transcript, so tokens per step stay flat as a workflow grows.
 */
import type { RunContext, TrailEntry } from '../compile/context.js';
import { countTokens } from './tokens.js';
import { renderContextValue } from './trim.js';

/** What the `<progress>` block holds: `outputs` (recent steps with key outputs), `ids` (ids and outcomes only), `none` (no block). */
export type SummaryMode = 'none' | 'ids' | 'outputs';

export interface PromptParts {
  readonly instructions: string;
  readonly context: Readonly<Record<string, unknown>>;
  readonly summary: string;
  /** Why the previous attempt was rejected, fed back on a retry. */
  readonly feedback?: string;
}

/**
 * Summary limits: the last `detailed` steps with a few key outputs each, the
 * `steps` before them by id and outcome only, older ones as one count, the
 * whole capped at `maxTokens` (oldest lines dropped first).
 */
export interface SummaryLimits {
  readonly steps: number;
  readonly detailed: number;
  readonly keysPerStep: number;
  readonly valueChars: number;
  readonly maxTokens: number;
}

export const defaultSummaryLimits: SummaryLimits = { steps: 5, detailed: 2, keysPerStep: 4, valueChars: 40, maxTokens: 120 };

function brief(value: unknown, chars: number): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value) ?? 'null';
  return text.length > chars ? `${text.slice(0, chars - 1)}…` : text;
}

/** Key outputs: the scalar fields of an output (objects and arrays are only named). */
function keyOutputs(output: unknown, limits: SummaryLimits): string {
  if (output === null || output === undefined) return '';
  if (typeof output !== 'object') return brief(output, limits.valueChars);
  const parts: string[] = [];
  for (const [key, value] of Object.entries(output as Record<string, unknown>)) {
    if (parts.length >= limits.keysPerStep) break;
    parts.push(value !== null && typeof value === 'object' ? `${key}: (${Array.isArray(value) ? 'list' : 'object'})` : `${key}: ${brief(value, limits.valueChars)}`);
  }
  return parts.join(', ');
}

/** Counts of outcomes, e.g. `12 done, 1 failed`. */
function outcomes(entries: readonly TrailEntry[]): string {
  const counts = new Map<string, number>();
  for (const entry of entries) counts.set(entry.status, (counts.get(entry.status) ?? 0) + 1);
  return [...counts].map(([status, n]) => `${n} ${status}`).join(', ');
}

/**
 * A compact structured summary of the steps completed before the current one:
 * bounded whatever the length of the run, so tokens per step stay flat. The
 * `mode` (a step's `summary:`) leaves the outputs out (`ids`) or the whole
 * block (`none`). For
 * a summary written by Claude, add an `analyze` step that condenses earlier
 * outputs and declare its output in later steps' `context:`.
 */
export function summarize(context: RunContext, current: string, limits: SummaryLimits = defaultSummaryLimits, mode: SummaryMode = 'outputs'): string {
  if (mode === 'none') return '';
  const done = context.trail.filter((e: TrailEntry) => e.endedAt !== null && !(e.id === current && e.status === 'running'));
  const shown = done.slice(-(limits.steps + limits.detailed));
  const older = done.slice(0, done.length - shown.length);
  const lines: string[] = [];
  if (older.length > 0) lines.push(`(${older.length} earlier steps: ${outcomes(older)})`);
  shown.forEach((entry, index) => {
    const detailed = mode === 'outputs' && index >= shown.length - limits.detailed;
    const outputs = detailed ? keyOutputs(context.steps[entry.id]?.output, limits) : '';
    lines.push(`- ${entry.id}: ${entry.status}${outputs ? ` — ${outputs}` : ''}`);
  });
  let text = lines.join('\n');
  while (countTokens(text) > limits.maxTokens && lines.length > 1) {
    lines.splice(lines[0]?.startsWith('(') ? 1 : 0, 1);
    text = lines.join('\n');
  }
  return text;
}

export function buildPrompt(parts: PromptParts): string {
  const sections = [`<instructions>\n${parts.instructions.trim()}\n</instructions>`];
  const values = Object.entries(parts.context).map(([key, value]) => {
    return `<${key}>\n${renderContextValue(value)}\n</${key}>`;
  });
  if (values.length > 0) sections.push(`<context>\n${values.join('\n')}\n</context>`);
  if (parts.summary) sections.push(`<progress>\n${parts.summary}\n</progress>`);
  if (parts.feedback) sections.push(`<previous_attempt_rejected>\n${parts.feedback}\nFix these problems in your answer.\n</previous_attempt_rejected>`);
  return sections.join('\n\n');
}
