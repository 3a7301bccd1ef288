/**
 * `final`: the run ends here. The driver evaluates `output`, then sends
 * `final.done` (→ `$done`, the run is done with that output) or, when the
 * expression fails, `final.failed` (→ `$failed`, `invalid_data`).
 */
import { z } from 'zod';
import { DONE_STATE, FAILED_STATE } from '../compile/context.js';
import { target } from '../compile/setup.js';
import { Mapping } from '../definition/fields.js';
import { definitionMapping, evaluateMapping } from '../expr/index.js';
import { scopeOf } from '../steps/types.js';
import { defineStepKind } from './types.js';
import { ignoreOthers } from './work.js';

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
  state: (id) => ({
    entry: [{ type: 'enterStep', params: { step: id, status: 'done' } }],
    meta: { stepwise: { kind: 'final' } },
    on: {
      'final.done': [ignoreOthers(id), { target: target(DONE_STATE) }],
      'final.failed': [
        ignoreOthers(id),
        { target: target(FAILED_STATE), actions: { type: 'failRun', params: { kind: 'invalid_data', message: `the output of final step "${id}" failed`, step: id } } },
      ],
    },
  }),
  edges: () => [],
  expressions: (step) => [[step.output, ['output']]],
  label: () => '',
  pathEvents: (id) => [{ type: 'final.done', step: id, at: 0 }],
  handler: {
    async advance(run, { id }, step) {
      // Runs finished before `$done` existed rest in the final step itself, with the machine done.
      if (run.finished()) return { kind: 'rest' };
      // A final step inside a branch ends the whole run: the other branches' steps in flight settle first (their
      // results reach the machine, which may move elsewhere meanwhile), then the step is looked at again.
      if (await run.othersSettled(id)) return { kind: 'moved' };
      let output: unknown = null;
      if (step.output !== undefined) {
        try {
          output = await evaluateMapping(definitionMapping(step.output), scopeOf({ runId: run.runId, context: run.context() }));
        } catch (error) {
          // The run's own data or definition is broken: the run fails (not resumable: the same output would fail again).
          const message = `the output of final step "${id}" failed: ${(error as Error).message}`;
          run.send({ type: 'final.failed', step: id, at: run.clock.now(), message });
          run.note({ ...run.where(id), event: 'failed', error: { kind: 'invalid_data', message } });
          return { kind: 'moved' };
        }
      }
      run.send({ type: 'final.done', step: id, at: run.clock.now() });
      run.note({ ...run.where(id), event: 'finished', output });
      await run.commit(output);
      return { kind: 'moved' };
    },
  },
});
