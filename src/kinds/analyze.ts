/** `analyze`: Claude returns a structured analysis against the step's JSON Schema. */
import { z } from 'zod';
import { common, modelCall } from '../definition/fields.js';
import { workHandler } from '../engine/work-handler.js';
import { ANALYSIS_TOOL, analyzeStep } from '../steps/analyze.js';
import { defineStepKind } from './types.js';
import { modelBound, modelExpressions, sharedChecks } from './model-bound.js';
import { workEdges, workPathEvents, workState, workWakeAt } from './work.js';
import { stepRunOf } from '../compile/context.js';

export const AnalyzeStep = z.strictObject({
  ...common,
  analyze: z.strictObject({
    ...modelCall,
    schema: z.record(z.string(), z.unknown()).describe('JSON Schema of the analysis'),
  }),
});

const ANALYSIS_TOOL_DESCRIPTION = 'Record the analysis this step asks for, in the required structure.';

export const analyzeKind = defineStepKind<z.infer<typeof AnalyzeStep>>({
  name: 'analyze',
  schema: AnalyzeStep,
  flows: true,
  entered: 'running',
  state: (id, step, scope) => workState(id, step, scope, 'analyze'),
  edges: (_id, step, next) => workEdges(step, next),
  check: (_id, step) => sharedChecks('analyze', step.analyze),
  expressions: (step) => modelExpressions('analyze', step.analyze),
  worstCase: (step, workflow, toolOf) =>
    modelBound(step.analyze, { name: ANALYSIS_TOOL, description: ANALYSIS_TOOL_DESCRIPTION, input_schema: { type: 'object', ...step.analyze.schema } }, workflow, toolOf),
  wakeAt: (id, _step, phase, context) => workWakeAt(phase, stepRunOf(context, id).retryAt),
  label: () => 'Claude analyzes',
  pathEvents: (id, _step, phase) => workPathEvents(id, phase),
  executor: analyzeStep,
  handler: workHandler<z.infer<typeof AnalyzeStep>>(analyzeStep, { retry: (step) => step.retry }),
});
