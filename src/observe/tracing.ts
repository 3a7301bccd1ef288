/**
 * OpenTelemetry spans and metrics through `@opentelemetry/api` only: without
 * an SDK registered by the application they are no-ops. With one, a run drive
 * is a `stepwise.run` span, each step attempt a `stepwise.step` span under it,
 * each model request a `chat {model}` span and each tool call an
 * `execute_tool {name}` span, with the GenAI semantic-convention attributes
 * (`gen_ai.*`) plus `stepwise.run.id`, `stepwise.step.id`, `stepwise.attempt`.
 * Token usage is also recorded on the `gen_ai.client.token.usage` histogram.
 * Spans leave the process: an error's message goes on them with anything
 * shaped like a credential hidden, as it is kept in the journal.
 */
import { INVALID_SPAN_CONTEXT, metrics, ProxyTracerProvider, SpanKind, SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api';
import { messageOf } from '../util/error-message.js';
import { redactCredentials } from '../util/redact.js';

const SCOPE = 'stepwise';

const tracer = () => trace.getTracer(SCOPE);

/** The span `fn` gets when no tracer provider is registered: it records nothing, as the API's no-op spans do. */
const idleSpan: Span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/**
 * Whether spans go anywhere: false while no SDK has registered a tracer
 * provider (the API's global proxy has no delegate), when every span would be
 * a no-op; checked per span, so a provider registered later is used at once.
 */
function tracing(): boolean {
  const provider = trace.getTracerProvider();
  return !(provider instanceof ProxyTracerProvider) || provider.getDelegateTracer(SCOPE) !== undefined;
}

/** Runs `fn` with no span around it; a synchronous throw comes back as a rejection, as from a span's callback. */
function untraced<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return fn();
  } catch (error) {
    return Promise.reject(error);
  }
}

/** Runs `fn` inside an active span, ending it (with an error status on a throw) when `fn` settles. */
export function inSpan<T>(name: string, attributes: Attributes, fn: (span: Span) => Promise<T>, kind: SpanKind = SpanKind.INTERNAL): Promise<T> {
  if (!tracing()) return untraced(() => fn(idleSpan));
  return tracer().startActiveSpan(name, { kind, attributes }, async (span) => {
    try {
      return await fn(span);
    } catch (error) {
      // Not the error itself: its message (and stack) may hold credentials, and reading it may throw again.
      const message = redactCredentials(messageOf(error));
      span.recordException({ name: errorName(error), message });
      span.setStatus({ code: SpanStatusCode.ERROR, message });
      throw error;
    } finally {
      span.end();
    }
  });
}

/** Marks `span` failed with a Stepwise failure kind (`error.type`). */
export function markFailed(span: Span, kind: string, message: string): void {
  span.setAttribute('error.type', kind);
  span.setStatus({ code: SpanStatusCode.ERROR, message: redactCredentials(message) });
}

/** The `name` of a thrown Error (`Error` when it cannot be read), `typeof` of anything else. */
function errorName(error: unknown): string {
  try {
    return error instanceof Error && typeof error.name === 'string' ? error.name : typeof error;
  } catch {
    return 'Error';
  }
}

export interface RunSpanInfo {
  readonly runId: string;
  readonly workflow: string;
  readonly version: string;
}

export const runAttributes = (run: RunSpanInfo): Attributes => ({
  'stepwise.run.id': run.runId,
  'stepwise.workflow.id': run.workflow,
  'stepwise.workflow.version': run.version,
});

export interface StepSpanInfo {
  readonly runId: string;
  readonly stepId: string;
  readonly kind: string;
  readonly visit: number;
  readonly attempt: number;
}

export const stepAttributes = (step: StepSpanInfo): Attributes => ({
  'stepwise.run.id': step.runId,
  'stepwise.step.id': step.stepId,
  'stepwise.step.kind': step.kind,
  'stepwise.step.visit': step.visit,
  'stepwise.attempt': step.attempt,
});

/** The request attributes of a `chat` span (GenAI conventions; both the old and new provider key). */
export function chatAttributes(model: string, maxTokens: number, tool: string): Attributes {
  return {
    'gen_ai.operation.name': 'chat',
    'gen_ai.system': 'anthropic',
    'gen_ai.provider.name': 'anthropic',
    'gen_ai.request.model': model,
    'gen_ai.request.max_tokens': maxTokens,
    'gen_ai.request.tool_choice': tool,
  };
}

const tokenUsage = () =>
  metrics.getMeter(SCOPE).createHistogram('gen_ai.client.token.usage', { unit: '{token}', description: 'Tokens used per model request' });

/** Records a model reply on its `chat` span and on the token-usage histogram. */
export function recordReply(
  span: Span,
  model: string,
  // Null when a server answers 200 with the JSON `null`: the caller then fails the call as a malformed reply.
  reply: { id?: string; model?: string; stop_reason?: string | null; usage?: { input_tokens: number; output_tokens: number } } | null,
): void {
  const input = reply?.usage?.input_tokens ?? 0;
  const output = reply?.usage?.output_tokens ?? 0;
  span.setAttributes({
    ...(reply?.id ? { 'gen_ai.response.id': reply.id } : {}),
    ...(reply?.model ? { 'gen_ai.response.model': reply.model } : {}),
    'gen_ai.response.finish_reasons': [reply?.stop_reason ?? 'unknown'],
    'gen_ai.usage.input_tokens': input,
    'gen_ai.usage.output_tokens': output,
  });
  const histogram = tokenUsage();
  const common = { 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'anthropic', 'gen_ai.request.model': model };
  histogram.record(input, { ...common, 'gen_ai.token.type': 'input' });
  histogram.record(output, { ...common, 'gen_ai.token.type': 'output' });
}

/** Runs a model request inside a `chat {model}` client span. */
export function traceModelCall<T>(model: string, maxTokens: number, tool: string, fn: (span: Span) => Promise<T>): Promise<T> {
  if (!tracing()) return untraced(() => fn(idleSpan));
  return inSpan(`chat ${model}`, chatAttributes(model, maxTokens, tool), fn, SpanKind.CLIENT);
}

/** Runs a tool inside an `execute_tool {name}` span. */
export function traceToolCall<T>(tool: string, attributes: Attributes, fn: (span: Span) => Promise<T>): Promise<T> {
  if (!tracing()) return untraced(() => fn(idleSpan));
  return inSpan(
    `execute_tool ${tool}`,
    { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': tool, 'gen_ai.tool.type': 'function', ...attributes },
    fn,
  );
}

/** Usage of a finished step or run, as span attributes. */
export function usageAttributes(usage: { inputTokens: number; outputTokens: number; usd: number }): Attributes {
  return {
    'gen_ai.usage.input_tokens': usage.inputTokens,
    'gen_ai.usage.output_tokens': usage.outputTokens,
    'stepwise.usage.usd': usage.usd,
  };
}

/**
 * Runs one drive of a run inside a `stepwise.run` span; the span ends with the run's status, the usage this drive
 * added (`gen_ai.usage.*`: the spans of a run's drives sum to its usage) and the run's total so far
 * (`stepwise.run.total_tokens`).
 */
export function traceRun<R extends { id: string; workflow: string; version: string; status: string; usage: { inputTokens: number; outputTokens: number; totalTokens: number; usd: number } }>(
  record: R,
  fn: () => Promise<R>,
): Promise<R> {
  if (!tracing()) return untraced(fn);
  return inSpan('stepwise.run', runAttributes({ runId: record.id, workflow: record.workflow, version: record.version }), async (span) => {
    const after = await fn();
    const added = { inputTokens: after.usage.inputTokens - record.usage.inputTokens, outputTokens: after.usage.outputTokens - record.usage.outputTokens, usd: after.usage.usd - record.usage.usd };
    span.setAttributes({ 'stepwise.run.status': after.status, ...usageAttributes(added), 'stepwise.run.total_tokens': after.usage.totalTokens });
    if (after.status === 'failed') span.setStatus({ code: SpanStatusCode.ERROR, message: 'the run failed' });
    return after;
  });
}

/** Runs one step attempt inside a `stepwise.step {id}` span, recording its outcome. */
export function traceStep<
  O extends { ok: boolean; usage: { inputTokens: number; outputTokens: number; usd: number }; error?: { kind: string; message: string } },
>(step: StepSpanInfo, fn: () => Promise<O>): Promise<O> {
  if (!tracing()) return untraced(fn);
  return inSpan(`stepwise.step ${step.stepId}`, stepAttributes(step), async (span) => {
    const outcome = await fn();
    span.setAttributes(usageAttributes(outcome.usage));
    if (!outcome.ok && outcome.error) markFailed(span, outcome.error.kind, outcome.error.message);
    return outcome;
  });
}

/** The attributes of an `execute_tool` span: the run, step and attempt, the idempotency key as the call id. */
export function toolSpanAttributes(call: { runId: string; stepId: string; attempt: number; idempotencyKey: string }): Attributes {
  return {
    'gen_ai.tool.call.id': call.idempotencyKey,
    'stepwise.run.id': call.runId,
    'stepwise.step.id': call.stepId,
    'stepwise.attempt': call.attempt,
  };
}
