/** `analyze`: Claude returns a structured analysis against the step's JSON Schema. */
import { z } from 'zod';
import { common, modelCall } from '../definition/fields.js';
import { ANALYSIS_TOOL, analyzeStep } from '../steps/analyze.js';
import { schemaIssues } from '../definition/schema-compiles.js';
import { defineStepKind } from './types.js';
import { modelBound, modelExpressions, sharedChecks } from './model-bound.js';
import { workKind } from './work-kind.js';

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
  ...workKind<z.infer<typeof AnalyzeStep>>('analyze', analyzeStep, { retry: (step) => step.retry }),
  check: (_id, step) => {
    const shared = sharedChecks('analyze', step.analyze);
    // Compiled as the step compiles it, with its `type: object` (src/steps/analyze.ts).
    const schema = step.analyze.schema;
    return { ...shared, errors: [...shared.errors, ...schemaIssues(schema, ['analyze', 'schema'], { type: 'object', ...schema })] };
  },
  expressions: (step) => modelExpressions('analyze', step.analyze),
  worstCase: (step, workflow, toolOf) =>
    modelBound(step.analyze, { name: ANALYSIS_TOOL, description: ANALYSIS_TOOL_DESCRIPTION, input_schema: { type: 'object', ...step.analyze.schema } }, workflow, toolOf),
  label: () => 'Claude analyzes',
});
