/**
 * What a model step is told on a retry about its previous attempt: the
 * validation error of an invalid input, or the error the tool threw on a
 * well-formed one, with anything that looks like a credential stripped and the
 * whole bounded, because tool errors are written for logs, not for prompts.
 */
import type { RunContext } from '../compile/context.js';
import { FEEDBACK_MAX_CHARS, TOOL_ERROR_FEEDBACK_CHARS } from '../policy/feedback.js';
import { redactCredentials } from '../util/redact.js';

/** The longest line naming the fields kept from an invalid input (within the feedback's cap). */
const KEPT_LINE_MAX_CHARS = 300;

/** Cuts `text` to `max` characters, ending with a marker that says how much was cut. */
export function boundText(text: string, max: number): string {
  if (text.length <= max) return text;
  let keep = max;
  for (let i = 0; i < 3; i++) keep = max - `…[trimmed ${text.length - keep} chars]`.length;
  return `${text.slice(0, keep)}…[trimmed ${text.length - keep} chars]`;
}

/**
 * The feedback for the attempt after `lastError`, or undefined when the last
 * failure holds nothing Claude could correct (a timeout, a model error). After
 * an invalid input whose other fields were accepted, it names those fields:
 * the retry's tool schema asks only for the rest (`narrowed`), or, where the
 * retry keeps the tool as it was to read the prompt cache, it says the model's
 * values for them are not used.
 *
 * @example
 * feedbackFor({ kind: 'tool_error', message: 'create_po: unknown vendor id V-0042' });
 * // 'The tool failed: create_po: unknown vendor id V-0042'
 */
export function feedbackFor(lastError: RunContext['lastError'], narrowed = true): string | undefined {
  if (!lastError) return undefined;
  if (lastError.kind === 'invalid_data') {
    const ask = narrowed ? 'Give only the fields the tool asks for now.' : 'What you give for them now is ignored.';
    const kept = lastError.accepted ? boundText(`\nThe other fields were accepted and kept: ${Object.keys(lastError.accepted).join(', ')}. ${ask}`, KEPT_LINE_MAX_CHARS) : '';
    return boundText(redactCredentials(lastError.message), FEEDBACK_MAX_CHARS - kept.length) + kept;
  }
  if (lastError.kind === 'tool_error') return boundText(`The tool failed: ${redactCredentials(lastError.message)}`, TOOL_ERROR_FEEDBACK_CHARS);
  return undefined;
}
