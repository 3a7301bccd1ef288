/**
 * Calls a tool the way every step kind does: its zod schema validates the input
 * first, the idempotency key identifies the attempt, the tool gets its own copy
 * of the input, a thrown error becomes a `tool_error` outcome rather than a crash.
 */
import type { z } from 'zod';
import type { StepFailure } from '../compile/context.js';
import type { AnyTool, ToolContext } from '../tools/define.js';
import { behindBreaker } from './breaker-gate.js';
import { withinDeadline } from './tool-deadline.js';
import type { StepEnv } from './types.js';
import { toolSpanAttributes, traceToolCall } from '../observe/tracing.js';
import { safeParse } from '../util/plain-zod.js';
import { isErrorLike, messageOf } from '../util/error-message.js';
import { plainCopy } from '../util/plain-copy.js';
import { DEFAULT_MAX_OUTPUT_BYTES, storable } from '../run/storable.js';

/** What a tool's thrown error says about itself: the fields a step's `retryOn` matches, and its own `retryable`. */
export interface ThrownError {
  readonly message: string;
  readonly name?: string;
  readonly code?: string;
  readonly reason?: string;
  readonly retryable?: boolean;
}

export type ToolResult =
  | { readonly ok: true; readonly output: unknown; readonly input: unknown }
  | { readonly ok: false; readonly error: StepFailure; readonly retryable: boolean; readonly thrown?: ThrownError };

/** Formats zod issues as `path: message` lines, a few at most. */
export function describeIssues(issues: readonly z.core.$ZodIssue[], limit = 5): string {
  const lines = issues.slice(0, limit).map((i) => `${i.path.length ? i.path.join('.') : '(input)'}: ${i.message}`);
  if (issues.length > limit) lines.push(`… and ${issues.length - limit} more`);
  return lines.join('; ');
}

export function idempotencyKey(env: Pick<StepEnv, 'runId' | 'stepId' | 'visit' | 'attempt'>): string {
  return `${env.runId}:${env.stepId}:${env.visit}:${env.attempt}`;
}

/** Validates `input` against the tool's schema. */
export function validateToolInput(tool: AnyTool, input: unknown): { ok: true; value: unknown } | { ok: false; message: string } {
  const parsed = safeParse(tool.input, input);
  return parsed.success ? { ok: true, value: parsed.data } : { ok: false, message: describeIssues(parsed.error.issues) };
}

/**
 * Calls the tool behind its circuit breaker: an input the store cannot keep (what a schema's transform made, a
 * value no journal could record) fails as `invalid_output`, not retried, before the tool is called; an open breaker
 * rejects the call as `breaker_open`, not retried. With
 * `timeoutMs` (a `claude` step's `timeout`), the call is bounded on the engine's clock: past it, the tool's signal
 * is aborted and the call fails as a retryable `timeout`, counted by the breaker as a failure.
 */
export async function invokeTool(env: StepEnv, tool: AnyTool, validInput: unknown, timeoutMs: number | null = null): Promise<ToolResult> {
  const kept = storable(validInput, env.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES);
  if (!kept.ok) return { ok: false, error: { kind: 'invalid_output', message: `the input of ${tool.name} cannot be stored: ${kept.reason}` }, retryable: false };
  const call = timeoutMs === null ? () => callTool(env, tool, validInput, () => env.signal) : () => callWithin(env, tool, validInput, timeoutMs);
  const gated = await behindBreaker(env, tool.name, call, (result) => !result.ok);
  return 'rejected' in gated ? { ok: false, error: gated.rejected, retryable: false } : gated.result;
}

async function callWithin(env: StepEnv, tool: AnyTool, validInput: unknown, timeoutMs: number): Promise<ToolResult> {
  const end = await withinDeadline(env.clock, timeoutMs, env.signal, (signal) => callTool(env, tool, validInput, signal));
  if ('done' in end) return end.done;
  return { ok: false, error: { kind: 'timeout', message: `${tool.name} did not answer within the step's timeout of ${timeoutMs} ms; its signal was aborted` }, retryable: true };
}

async function callTool(env: StepEnv, tool: AnyTool, validInput: unknown, signal: () => AbortSignal): Promise<ToolResult> {
  const context: ToolContext = {
    runId: env.runId,
    stepId: env.stepId,
    visit: env.visit,
    attempt: env.attempt,
    idempotencyKey: idempotencyKey(env),
    // Made only when the tool reads it: the env makes its signal on first read.
    get signal() {
      return signal();
    },
  };
  // The tool gets its own copy of the input's objects and arrays: what it changes in place reaches neither the
  // input the step journals (what Claude gave, what the `with` mapping made) nor the run's step results a mapping
  // handed over.
  let given: unknown;
  try {
    given = plainCopy(validInput);
  } catch (error) {
    const why = error instanceof RangeError ? 'it is nested too deeply to store' : `it could not be read: ${messageOf(error)}`;
    return { ok: false, error: { kind: 'invalid_output', message: `the input of ${tool.name} cannot be stored: ${why}` }, retryable: false };
  }
  try {
    const output = await traceToolCall(tool.name, toolSpanAttributes(context), async () => tool.run(given, context));
    if (tool.output) {
      const checked = safeParse(tool.output, output);
      if (!checked.success) return { ok: false, error: { kind: 'invalid_output', message: `${tool.name} returned an output that does not match its output schema: ${describeIssues(checked.error.issues)}` }, retryable: false };
      return { ok: true, output: checked.data === undefined ? null : checked.data, input: validInput };
    }
    return { ok: true, output: output === undefined ? null : output, input: validInput };
  } catch (error) {
    // Whatever was thrown (a Proxy, an Error whose `message` getter throws) is read without throwing again. The
    // message is kept with credentials hidden where every failure's is (src/engine/outcomes.ts).
    const thrown = thrownError(error);
    return { ok: false, error: { kind: 'tool_error', message: `${tool.name}: ${thrown.message}` }, retryable: thrown.retryable !== false, thrown };
  }
}

/**
 * Reads a thrown value: its message, and the `name`, `code`, `reason` and boolean `retryable` it carries. Never
 * throws: a field whose getter throws (or a value that throws when looked at at all) is left out.
 */
export function thrownError(error: unknown): ThrownError {
  const message = messageOf(error);
  if (!isError(error)) return { message };
  const name = field(error, 'name');
  const code = field(error, 'code');
  const reason = field(error, 'reason');
  const retryable = field(error, 'retryable');
  return {
    message,
    ...(typeof name === 'string' ? { name } : {}),
    ...(typeof code === 'string' ? { code } : {}),
    ...(typeof reason === 'string' ? { reason } : {}),
    ...(typeof retryable === 'boolean' ? { retryable } : {}),
  };
}

/** An Error, or an object thrown in its place with a string `message` (its `retryable`, `code`… are read as an Error's). */
function isError(value: unknown): value is Error {
  try {
    return isErrorLike(value);
  } catch {
    return false;
  }
}

/** `error[key]`, or undefined when reading it throws. */
function field(error: Error, key: string): unknown {
  try {
    return (error as unknown as Record<string, unknown>)[key];
  } catch {
    return undefined;
  }
}
