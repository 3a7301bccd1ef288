/**
 * The building blocks of the definition schema that every step kind shares:
 * durations, mappings, step ids, retry, breaker and the fields of work and
 * model steps. Kind schemas (src/kinds/<kind>.ts) are made of these.
 */
import { z } from 'zod';
import { DEFAULT_MAX_DEPTH, MAX_DEPTH_CEILING } from '../policy/limits.js';
import { reservedStepIds, reservedStepIdMessage } from './reserved.js';

const durationPattern = /^\d+(\.\d+)?(ms|s|m|h|d)$/;

/** A duration: milliseconds as a number, or a string such as `500ms`, `1s`, `5m`, `72h`, `2d`. */
export const Duration = z
  .union([z.number().int().nonnegative(), z.string().regex(durationPattern, 'a duration such as 500ms, 1s, 5m, 72h or 2d')])
  .describe('Milliseconds, or a string such as 500ms, 1s, 5m, 72h, 2d');

/** Any JSON value; strings may hold `{% expression %}` (JSONata) evaluated at run time. */
export const Mapping = z.unknown().describe('JSON value; strings holding {% ... %} are JSONata expressions');

/** A step id: the name of a state in the compiled machine; not a reserved name such as `__proto__` or `constructor`. */
export const StepId = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_-]*$/, 'a step id: letters, digits, _ and -, starting with a letter or _')
  .refine((id) => !reservedStepIds.has(id), { error: (issue) => reservedStepIdMessage(String(issue.input)) });

/** Visits allowed to one step in a run; every step kind counts its visits. */
export const maxVisits = z
  .number()
  .int()
  .min(1)
  .optional()
  .describe('Visits allowed to this step in one run (default: limits.maxVisits); one more stops the run as a loop');

/** An event a `wait` step accepts, e.g. APPROVE. */
export const EventName = z.string().regex(/^[A-Z][A-Z0-9_]*$/, 'an event name in UPPER_CASE, e.g. APPROVE');

export const Backoff = z.strictObject({
  initial: Duration.optional().describe('First delay (default 1s)'),
  factor: z.number().min(1).optional().describe('Multiplier per attempt (default 2)'),
  max: Duration.optional().describe('Largest delay (default 30s)'),
  jitter: z.number().min(0).max(1).optional().describe('Random fraction added or removed (default 0.2)'),
});

export const RetryPolicy = z.strictObject({
  maxAttempts: z.number().int().min(1).optional().describe('Attempts per step visit, first included (default 3)'),
  backoff: Backoff.optional(),
});

export const Budget = z.strictObject({
  tokens: z.number().int().positive().optional().describe('Total token budget of a run (default 50000)'),
  usd: z.number().positive().optional().describe('Dollar cap of a run (default none)'),
  stopAt: z.number().gt(0).max(1).optional().describe('No model call may take the run past this fraction (default 0.9)'),
});

export const Limits = z.strictObject({
  maxVisits: z.number().int().min(1).optional().describe('Visits allowed per step in a run (default 10)'),
  repeatedInputs: z
    .number()
    .int()
    .min(2)
    .optional()
    .describe('Equal or near-equal tool inputs allowed from one step before it is stopped as a loop (default 3)'),
  maxDepth: z
    .number()
    .int()
    .min(0)
    .max(MAX_DEPTH_CEILING)
    .optional()
    .describe(
      `Levels of child runs (workflow steps, map items) a run may nest below the top-level run; the smallest limit of a run and the runs above it counts, a definition that sets none taking the one above it (default ${DEFAULT_MAX_DEPTH}). A step that would start a child deeper fails as a loop`,
    ),
});

export const BreakerPolicy = z.strictObject({
  threshold: z.number().int().min(1).optional().describe('Consecutive failures of a tool that open its breaker (default 5)'),
  cooldown: Duration.optional().describe('Time an open breaker rejects calls before one probe is let through (default 30s)'),
});

/** A circuit breaker policy, or `false` for none. */
export const Breaker = z
  .union([BreakerPolicy, z.literal(false)])
  .describe('Circuit breaker of the tools this workflow or step calls, shared by every run on the store; false turns it off');

/** The tool errors a `claude` step retries (with the error fed back); any other tool error fails the step at once. */
export const RetryOn = z
  .array(z.string().min(1))
  .min(1)
  .describe(
    "Tool errors worth another attempt: an entry matches the thrown error's reason, code or name, or text in its message; other tool errors fail the step at once (an error's own retryable flag wins)",
  );

/** Fields every work step (claude, analyze, tool) has. */
export const common = {
  description: z.string().optional(),
  next: StepId.optional().describe('Step to go to after this one'),
  onError: StepId.optional().describe('Step to go to when this one fails for good'),
  retry: RetryPolicy.optional(),
  maxVisits,
  timeout: Duration.optional().describe('Time allowed for one attempt'),
};

/** What the `<progress>` block of a model step's prompt says about earlier steps. */
export const Summary = z
  .enum(['none', 'ids', 'outputs'])
  .describe('The <progress> block of the prompt: outputs (default) = recent steps with up to 4 scalar outputs, ids = step ids and outcomes only, none = no block');

/** A `context:` value cut to a token bound in the prompt. */
export const BoundedContext = z.strictObject({
  value: Mapping,
  maxTokens: z.number().int().positive().describe('Tokens of this value the prompt may hold; past it the text is cut and ends with …[trimmed N tokens]'),
});

/** One `context:` value: a mapping, or `{ value, maxTokens }` to bound it. */
export const ContextEntry = z.union([BoundedContext, Mapping]);

/** Fields of a step that calls the model (claude, analyze). */
export const modelCall = {
  prompt: z.string().min(1).describe('Instructions for this step'),
  context: z
    .record(z.string(), ContextEntry)
    .optional()
    .describe('The run data this step sees, each value a mapping or { value, maxTokens }; no other run data is sent but the <progress> block (see summary)'),
  summary: Summary.optional().describe('The <progress> block of this step (default: the workflow\'s summary, else outputs)'),
  system: z.string().optional(),
  model: z.string().optional().describe('Model for this step (default: workflow model)'),
  maxTokens: z.number().int().positive().optional().describe('max_tokens of this step\'s model call'),
  shared: z
    .array(z.string().min(1))
    .optional()
    .describe('Keys of `context` whose values are the same for every call of this step (a policy, a catalogue): sent first, inside the cached prefix'),
  cache: z.boolean().optional().describe('Mark the stable prefix (tool, system, shared context) for prompt caching (default: the workflow\'s cache, true)'),
};


export type Duration = z.infer<typeof Duration>;
export type RetryPolicy = z.infer<typeof RetryPolicy>;
export type Budget = z.infer<typeof Budget>;
export type Breaker = z.infer<typeof Breaker>;
export type Summary = z.infer<typeof Summary>;
export type BoundedContext = z.infer<typeof BoundedContext>;

/** Whether a `context:` value is the `{ value, maxTokens }` form. */
export function isBoundedContext(entry: unknown): entry is BoundedContext {
  return BoundedContext.safeParse(entry).success;
}
