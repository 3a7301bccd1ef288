/**
 * Builds a step's prompt: its instructions, the values it declares in
 * `context:`, and a compact, bounded summary of the steps before it. Never the
 * raw transcript, so tokens per step stay flat as a workflow grows.
 */
import type { RunContext, TrailEntry } from '../compile/context.js';
import { countTokens } from './tokens.js';

export interface PromptParts {
  readonly instructions: string;
  readonly context: Readonly<Record<string, unknown>>;
  readonly summary: string;
  /** Why the previous attempt was rejected, fed back on a retry. */
  readonly feedback?: string;
}

/** Summary limits: the most recent steps, a few key outputs each, a token cap. */
export interface SummaryLimits {
  readonly steps: number;
  readonly keysPerStep: number;
  readonly valueChars: number;
  readonly maxTokens: number;
}

export const defaultSummaryLimits: SummaryLimits = { steps: 8, keysPerStep: 6, valueChars: 60, maxTokens: 300 };

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

/** A compact structured summary of the steps completed before the current one. */
export function summarize(context: RunContext, current: string, limits: SummaryLimits = defaultSummaryLimits): string {
  const done = context.trail.filter((e: TrailEntry) => e.endedAt !== null && !(e.id === current && e.status === 'running'));
  const recent = done.slice(-limits.steps);
  const lines: string[] = [];
  if (done.length > recent.length) lines.push(`(${done.length - recent.length} earlier steps omitted)`);
  for (const entry of recent) {
    const result = context.steps[entry.id];
    const outputs = keyOutputs(result?.output, limits);
    lines.push(`- ${entry.id}: ${entry.status}${outputs ? ` — ${outputs}` : ''}`);
  }
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
    const text = typeof value === 'string' ? value : JSON.stringify(value, null, 1);
    return `<${key}>\n${text}\n</${key}>`;
  });
  if (values.length > 0) sections.push(`<context>\n${values.join('\n')}\n</context>`);
  if (parts.summary) sections.push(`<progress>\n${parts.summary}\n</progress>`);
  if (parts.feedback) sections.push(`<previous_attempt_rejected>\n${parts.feedback}\nFix these problems in your answer.\n</previous_attempt_rejected>`);
  return sections.join('\n\n');
}
