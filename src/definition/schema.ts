/**
 * The one schema of the definition format. YAML and TypeScript definitions are
 * both validated against it, and `stepwise schema` exports it as JSON Schema.
 */
import { z } from 'zod';
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
const maxVisits = z
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
});

export const BreakerPolicy = z.strictObject({
  threshold: z.number().int().min(1).optional().describe('Consecutive failures of a tool that open its breaker (default 5)'),
  cooldown: Duration.optional().describe('Time an open breaker rejects calls before one probe is let through (default 30s)'),
});

/** A circuit breaker policy, or `false` for none. */
export const Breaker = z
  .union([BreakerPolicy, z.literal(false)])
  .describe('Circuit breaker of the tools this workflow or step calls, shared by every run on the store; false turns it off');

const common = {
  description: z.string().optional(),
  next: StepId.optional().describe('Step to go to after this one'),
  onError: StepId.optional().describe('Step to go to when this one fails for good'),
  retry: RetryPolicy.optional(),
  maxVisits,
  timeout: Duration.optional().describe('Time allowed for one attempt'),
};

const modelCall = {
  prompt: z.string().min(1).describe('Instructions for this step'),
  context: z.record(z.string(), Mapping).optional().describe('The values this step sees; nothing else from the run is sent'),
  system: z.string().optional(),
  model: z.string().optional().describe('Model for this step (default: workflow model)'),
  maxTokens: z.number().int().positive().optional().describe('max_tokens of this step\'s model call'),
};

export const ClaudeStep = z.strictObject({
  ...common,
  breaker: Breaker.optional(),
  claude: z.strictObject({ tool: z.string().min(1).describe('The one tool Claude fills the input of'), ...modelCall }),
});

export const AnalyzeStep = z.strictObject({
  ...common,
  analyze: z.strictObject({
    ...modelCall,
    schema: z.record(z.string(), z.unknown()).describe('JSON Schema of the analysis'),
  }),
});

export const ToolStep = z.strictObject({
  ...common,
  breaker: Breaker.optional(),
  tool: z.string().min(1).describe('Tool the application calls, without the model'),
  with: Mapping.optional().describe('The tool input'),
});

export const ChoiceStep = z.strictObject({
  description: z.string().optional(),
  maxVisits,
  choice: z
    .array(
      z.strictObject({
        when: z.string().optional().describe('Condition; the first true branch is taken. Omit for the default'),
        next: StepId,
      }),
    )
    .min(1),
});

export const WaitStep = z.strictObject({
  description: z.string().optional(),
  maxVisits,
  wait: z.strictObject({
    on: z.record(EventName, StepId).describe('Events accepted and the step each leads to'),
    timeout: Duration.optional(),
    onTimeout: StepId.optional(),
  }),
});

export const FinalStep = z.strictObject({
  description: z.string().optional(),
  final: z.literal(true),
  output: Mapping.optional().describe('The run output'),
});

export const Step = z.union([ClaudeStep, AnalyzeStep, ToolStep, ChoiceStep, WaitStep, FinalStep]);

/** Keys that name a step's kind, in the order they are checked. */
export const stepKinds = {
  claude: ClaudeStep,
  analyze: AnalyzeStep,
  tool: ToolStep,
  choice: ChoiceStep,
  wait: WaitStep,
  final: FinalStep,
} as const;
export type StepKind = keyof typeof stepKinds;

export const Workflow = z.strictObject({
  $schema: z.string().optional(),
  id: StepId.describe('Workflow id'),
  version: z.string().optional(),
  description: z.string().optional(),
  tools: z.union([z.string(), z.array(z.string())]).optional().describe('Module(s) exporting defineTool() tools, relative to this file'),
  model: z.string().optional().describe('Default model (default claude-sonnet-4-6)'),
  maxTokens: z.number().int().positive().optional().describe('Default max_tokens per model call (default 1024)'),
  budget: Budget.optional(),
  retry: RetryPolicy.optional(),
  limits: Limits.optional(),
  breaker: Breaker.optional(),
  deadline: Duration.optional().describe('Time a run may take from start to end'),
  input: z.record(z.string(), z.unknown()).optional().describe('JSON Schema of the run input'),
  start: StepId.optional().describe('First step (default: the first one listed)'),
  steps: z.record(StepId, Step).refine((s) => Object.keys(s).length > 0, 'at least one step'),
});

export type Duration = z.infer<typeof Duration>;
export type RetryPolicy = z.infer<typeof RetryPolicy>;
export type Budget = z.infer<typeof Budget>;
export type Breaker = z.infer<typeof Breaker>;
export type ClaudeStep = z.infer<typeof ClaudeStep>;
export type AnalyzeStep = z.infer<typeof AnalyzeStep>;
export type ToolStep = z.infer<typeof ToolStep>;
export type ChoiceStep = z.infer<typeof ChoiceStep>;
export type WaitStep = z.infer<typeof WaitStep>;
export type FinalStep = z.infer<typeof FinalStep>;
export type Step = z.infer<typeof Step>;
export type Workflow = z.infer<typeof Workflow>;

/** The kind of a step, from the key that names it. */
export function stepKind(step: Step): StepKind {
  if ('claude' in step) return 'claude';
  if ('analyze' in step) return 'analyze';
  if ('tool' in step) return 'tool';
  if ('choice' in step) return 'choice';
  if ('wait' in step) return 'wait';
  return 'final';
}
