/**
 * The one schema of the definition format. YAML and TypeScript definitions are
 * both validated against it, and `stepwise schema` exports it as JSON Schema.
 * Each step kind's schema lives with its kind (src/kinds); validation uses the
 * registry, so registered kinds are accepted too. The kind of a step is
 * `kindOf(step)` from the registry.
 */
import { z } from 'zod';
import { Breaker, Budget, Duration, Limits, RetryPolicy, StepId, Summary } from './fields.js';
import { ClaudeStep } from '../kinds/claude.js';
import { AnalyzeStep } from '../kinds/analyze.js';
import { ToolStep } from '../kinds/tool.js';
import { ChoiceStep } from '../kinds/choice.js';
import { WaitStep } from '../kinds/wait.js';
import { FinalStep } from '../kinds/final.js';
import { parallelStepSchema } from '../kinds/parallel.js';
import { WorkflowStep } from '../kinds/workflow.js';
import { mapStepSchema } from '../kinds/map-body.js';

export * from './fields.js';
export { ClaudeStep, AnalyzeStep, ToolStep, ChoiceStep, WaitStep, FinalStep, WorkflowStep };

/** A `map` step; its body holds steps of the built-in kinds (validation uses the registry, which holds more). */
export const MapStep = mapStepSchema(() => Step);

/** The step schemas of the built-in kinds, in the order kinds are recognised (the registry in src/kinds holds more). */
export const Step: z.ZodType<ClaudeStep | AnalyzeStep | ToolStep | ChoiceStep | WaitStep | FinalStep | ParallelStep | WorkflowStep | MapStep> = z.union([
  ClaudeStep,
  AnalyzeStep,
  ToolStep,
  ChoiceStep,
  WaitStep,
  FinalStep,
  parallelStepSchema(() => Step),
  WorkflowStep,
  MapStep,
]) as never;
/** A `parallel` step: its branch steps are steps of any kind. */
export const ParallelStep = parallelStepSchema(() => Step);

export const Workflow = z.strictObject({
  $schema: z.string().optional(),
  id: StepId.describe('Workflow id'),
  version: z.string().optional(),
  description: z.string().optional(),
  tools: z.union([z.string(), z.array(z.string())]).optional().describe('Module(s) exporting defineTool() tools, relative to this file'),
  model: z.string().optional().describe('Default model (default claude-sonnet-4-6)'),
  maxTokens: z.number().int().positive().optional().describe('Default max_tokens per model call (default 1024)'),
  summary: Summary.optional().describe('Default <progress> block of model steps (default outputs)'),
  cache: z.boolean().optional().describe('Prompt caching of model steps\' stable prefixes (default true); a step\'s cache overrides it'),
  budget: Budget.optional(),
  retry: RetryPolicy.optional(),
  limits: Limits.optional(),
  breaker: Breaker.optional(),
  deadline: Duration.optional().describe('Time a run may take from start to end'),
  input: z.record(z.string(), z.unknown()).optional().describe('JSON Schema of the run input'),
  start: StepId.optional().describe('First step (default: the first one listed)'),
  steps: z.record(StepId, Step).refine((s) => Object.keys(s).length > 0, 'at least one step'),
});

export type ClaudeStep = z.infer<typeof ClaudeStep>;
export type AnalyzeStep = z.infer<typeof AnalyzeStep>;
export type ToolStep = z.infer<typeof ToolStep>;
export type ChoiceStep = z.infer<typeof ChoiceStep>;
export type WaitStep = z.infer<typeof WaitStep>;
export type FinalStep = z.infer<typeof FinalStep>;
export type ParallelStep = import('../kinds/parallel.js').ParallelStepSpec;
export type WorkflowStep = z.infer<typeof WorkflowStep>;
export type MapStep = z.infer<typeof MapStep>;
export type Step = z.infer<typeof Step>;
export type Workflow = z.infer<typeof Workflow>;
