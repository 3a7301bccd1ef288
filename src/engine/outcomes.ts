/**
 * Turning how a step attempt ended into the outcome the machine and the store
 * receive: outputs checked and capped before anything stores them
 * (`invalid_output`), a timeout as a retryable `timeout`, an error the engine
 * raised inside the step as `engine_error`. Every failure's message passes
 * here on its way to the machine, the journal and the store (a tool's error, a
 * model server's, a value that could not be read), and is kept with anything
 * shaped like a credential hidden, and capped. What an attempt hands on (its
 * output, the model's input, the fields a retry keeps) is kept with the
 * configured credentials of the model server hidden, as its messages are.
 */
import { StepwiseError } from '../errors.js';
import { zeroUsage } from '../run/types.js';
import { storable } from '../run/storable.js';
import type { StepOutcome } from '../steps/types.js';
import { messageOf } from '../util/error-message.js';
import { redactCredentials, withoutConfigured } from '../util/redact.js';

type Failed = Extract<StepOutcome, { ok: false }>;

/** Longest error message kept; longer ones are cut, saying how much was dropped. */
const MAX_MESSAGE = 16 * 1024;
/** How much of a message is read for credentials: past the cap by the longest credential it could cut in two. */
const SCANNED = MAX_MESSAGE + 1024;

/**
 * A failure's message as it is kept: the configured `secrets` and anything shaped like a credential hidden (before the
 * cut, so one the cut would split is hidden whole; what lies far past the cap is never read), then capped.
 *
 * @example
 * keptMessage('fetch: GET /v failed: Authorization: Bearer abcdefgh12345678'); // 'fetch: GET /v failed: Authorization: ***'
 */
export function keptMessage(message: string, secrets: readonly string[] = []): string {
  const scanned = message.length > SCANNED ? message.slice(0, SCANNED) : message;
  const text = redactCredentials(secrets.length > 0 ? withoutConfigured(scanned, secrets) : scanned);
  const unread = Math.max(0, message.length - SCANNED);
  if (text.length <= MAX_MESSAGE && unread === 0) return text;
  return `${text.slice(0, MAX_MESSAGE)}… (${Math.max(0, text.length - MAX_MESSAGE) + unread} more characters)`;
}

/**
 * Checks what a step returned against what the store can keep: a successful
 * outcome whose output or input is not plain JSON within `maxBytes` becomes a
 * failed, not retried `invalid_output` (its tokens still charged); a failed
 * one keeps its input only when storable. The values passed on are the JSON
 * copies (a Date becomes its ISO string, as the stores would read it back),
 * with each of `secrets` (the model server's configured credentials,
 * `credentialsOf`) hidden as `***` in them and in the messages.
 */
export function guardOutcome(step: string, outcome: StepOutcome, maxBytes: number, secrets: readonly string[] = []): StepOutcome {
  const input = outcome.input === undefined ? null : storable(outcome.input, maxBytes, secrets);
  const keptInput = input?.ok ? { input: input.value } : {};
  if (!outcome.ok) {
    const { input: _unchecked, accepted, rejected, ...rest } = outcome;
    return {
      ...rest,
      error: { kind: outcome.error.kind, message: keptMessage(outcome.error.message, secrets) },
      ...keptInput,
      // Parts of the input, checked with it: kept as it is.
      ...(accepted ? { accepted: hidden(accepted, secrets) } : {}),
      ...(rejected ? { rejected: hidden(rejected, secrets) } : {}),
    };
  }
  const output = storable(outcome.output, maxBytes, secrets);
  const problem = !output.ok ? `the output of step "${step}" cannot be stored: ${output.reason}` : input && !input.ok ? `the input of step "${step}" cannot be stored: ${input.reason}` : null;
  if (problem !== null || !output.ok) {
    return {
      ok: false,
      error: { kind: 'invalid_output', message: keptMessage(problem ?? '', secrets) },
      retryable: false,
      ...keptInput,
      usage: outcome.usage,
      ...(outcome.estimatedInput ? { estimatedInput: outcome.estimatedInput } : {}),
      latencyMs: outcome.latencyMs,
      ...(outcome.fingerprint ? { fingerprint: outcome.fingerprint } : {}),
    };
  }
  return { ...outcome, output: output.value, ...keptInput };
}

/** `fields` (parts of an input already found storable) with `secrets` hidden. */
function hidden<T extends Readonly<Record<string, unknown>>>(fields: T, secrets: readonly string[]): T {
  if (secrets.length === 0) return fields;
  const copy = storable(fields, Number.MAX_SAFE_INTEGER, secrets);
  return copy.ok ? (copy.value as T) : fields;
}

/** A step attempt that ran past its `timeout`: retryable. */
export function timedOut(step: string, timeoutMs: number): Failed {
  return {
    ok: false,
    error: { kind: 'timeout', message: `step "${step}" did not finish within its timeout of ${timeoutMs} ms; its signal was aborted` },
    retryable: true,
    usage: zeroUsage,
    latencyMs: timeoutMs,
  };
}

/**
 * How many times an attempt interrupted mid-call (its process died, or it
 * outlived its lease and another worker took the run over) is run again with
 * the same idempotency key before it fails as `interrupted`.
 */
export const MAX_INTERRUPTED_RERUNS = 3;

/**
 * An attempt interrupted mid-call on every run: it already ran
 * 1 + {@link MAX_INTERRUPTED_RERUNS} times without finishing (e.g. a tool that
 * always takes longer than the lease, so workers keep taking the run from each
 * other). Retryable: the next attempt gets a new key, and the retry limit bounds the run.
 */
export function interrupted(step: string, reruns: number): Failed {
  return {
    ok: false,
    error: {
      kind: 'interrupted',
      message:
        `step "${step}" was interrupted mid-call ${reruns + 1} times (its process died, or the call outlived the lease and another worker took the run over); ` +
        'if the step is slow, use a longer lease (--lease, leaseMs)',
    },
    retryable: true,
    usage: zeroUsage,
    latencyMs: 0,
  };
}

/**
 * A step whose input could not be prepared (an expression failed, its tool is
 * provided by no module): not retried, since the same data fails the same way;
 * `engine_error` for a missing tool, else `invalid_data`, the message kept as every failure's is.
 */
export function unprepared(error: unknown): Failed {
  const message = messageOf(error);
  const kind = stepwiseCode(error) === 'tool_missing' ? 'engine_error' : 'invalid_data';
  return { ok: false, error: { kind, message: keptMessage(message) }, retryable: false, usage: zeroUsage, latencyMs: 0 };
}

/** The code of a {@link StepwiseError}; null for anything else, also for a value that throws when looked at (a Proxy). */
function stepwiseCode(error: unknown): string | null {
  try {
    return error instanceof StepwiseError ? error.code : null;
  } catch {
    return null;
  }
}

/** Engine errors that running the attempt again cannot fix. */
const finalCodes: ReadonlySet<string> = new Set(['tool_missing', 'definition_invalid', 'usage', 'input_invalid']);

/**
 * An error the engine raised inside a step (the store failed under a breaker
 * or the rate limit, a tool no module provides): `engine_error`, retryable
 * unless it is a configuration error, the message kept as every failure's is.
 */
export function engineFailure(error: unknown, secrets: readonly string[] = []): Failed {
  const message = messageOf(error);
  const code = stepwiseCode(error);
  const retryable = !(code !== null && finalCodes.has(code));
  return { ok: false, error: { kind: 'engine_error', message: keptMessage(message, secrets) }, retryable, usage: zeroUsage, latencyMs: 0 };
}
