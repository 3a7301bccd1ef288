/** `claude`: Claude fills the input of one named tool (forced `tool_choice`), then the tool runs. */
import { z } from 'zod';
import { Breaker, Mapping, common, modelCall, RetryOn } from '../definition/fields.js';
import { claudeStep } from '../steps/claude.js';
import { defineStepKind } from './types.js';
import { modelBound, modelExpressions, sharedChecks } from './model-bound.js';
import { modelTool, withChecks } from './claude-with.js';
import { modelToolInputFindings } from './object-input.js';
import { workEdges, workPathEvents, workState } from './work.js';
import { workKind } from './work-kind.js';
import { admitReview, reviewAccepts, reviewCheck, reviewEdges, reviewExpressions, reviewFields, reviewPathEvents, reviewStates, reviewed, REVIEWING } from './review.js';

export const ClaudeStep = z.strictObject({
  ...common,
  breaker: Breaker.optional(),
  retryOn: RetryOn.optional(),
  ...reviewFields,
  claude: z.strictObject({
    tool: z.string().min(1).describe('The one tool Claude fills the input of'),
    ...modelCall,
    with: z
      .record(z.string(), Mapping)
      .optional()
      .describe('Values the application fills in for top-level fields of the tool input (a mapping, as a tool step\'s `with`); Claude is asked only for the rest'),
  }),
});

export const claudeKind = defineStepKind<z.infer<typeof ClaudeStep>>({
  name: 'claude',
  schema: ClaudeStep,
  ...workKind<z.infer<typeof ClaudeStep>>('claude', claudeStep, { retry: (step) => step.retry }),
  waitingPhases: [REVIEWING],
  state: (id, step, scope) => workState(id, step, scope, 'claude', reviewStates(id, step)),
  edges: (_id, step, next) => [...workEdges(step, next), ...reviewEdges(step)],
  check: (_id, step) => {
    const shared = sharedChecks('claude', step.claude);
    return { errors: [...shared.errors, ...reviewCheck(step)], warnings: shared.warnings };
  },
  expressions: (step) => [...modelExpressions('claude', step.claude), [step.claude.with, ['claude', 'with']], ...reviewExpressions(step)],
  accepts: (step, phase) => reviewAccepts(step, phase),
  admit: (id, step, event, scope) => admitReview(id, step, event, scope),
  tools: (step) => [{ name: step.claude.tool, path: ['claude', 'tool'] }],
  toolChecks: (step, toolOf) => {
    const tool = toolOf(step.claude.tool);
    const wrongType = modelToolInputFindings(tool, ['claude', 'tool']);
    return wrongType.length > 0 ? { errors: wrongType, warnings: [] } : withChecks(step.claude, tool);
  },
  worstCase: (step, workflow, toolOf) =>
    modelBound(step.claude, modelTool(step.claude, toolOf(step.claude.tool) ?? { name: step.claude.tool, description: '', input_schema: { type: 'object' } }), workflow, toolOf),
  label: (step) => `Claude fills ${step.claude.tool}${reviewed(step) ? ', reviewed' : ''}`,
  pathEvents: (id, step, phase) => [...workPathEvents(id, phase), ...reviewPathEvents(id, step, phase)],
});
