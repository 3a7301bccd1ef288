/** `final`: the run ends here (or, inside a parallel region, the region does); `output` is the run's output. */
import { z } from 'zod';
import { Mapping } from '../definition/fields.js';
import { compileMapping, evaluateMapping } from '../expr/index.js';
import { scopeOf } from '../steps/types.js';
import { defineStepKind } from './types.js';

export const FinalStep = z.strictObject({
  description: z.string().optional(),
  final: z.literal(true),
  output: Mapping.optional().describe('The run output'),
});

export const finalKind = defineStepKind<z.infer<typeof FinalStep>>({
  name: 'final',
  schema: FinalStep,
  ends: true,
  routeHint: '; a final step ends the run',
  entered: 'done',
  state: (id) => ({ type: 'final', entry: [{ type: 'enterStep', params: { step: id, status: 'done' } }], meta: { stepwise: { kind: 'final' } } }),
  edges: () => [],
  expressions: (step) => [[step.output, ['output']]],
  label: () => '',
  pathEvents: () => [],
  handler: {
    async advance(run, { id }, step) {
      if (!run.finished()) return { kind: 'rest' }; // the end of one parallel region: the others go on
      let output: unknown = null;
      if (step.output !== undefined) {
        try {
          output = await evaluateMapping(compileMapping(step.output), scopeOf({ runId: run.runId, context: run.context() }));
        } catch (error) {
          output = { error: (error as Error).message };
        }
      }
      return { kind: 'rest', force: run.status() !== 'done', output, onCommit: () => run.note({ ...run.where(id), event: 'finished', output }) };
    },
  },
});
