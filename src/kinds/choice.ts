/** `choice`: the application branches on data: the first branch whose `when` holds is taken. */
import { z } from 'zod';
import { FAILED_STATE } from '../compile/context.js';
import { target } from '../compile/setup.js';
import { maxVisits, StepId } from '../definition/fields.js';
import type { PathSegment } from '../definition/locate.js';
import { evaluateCondition, unwrapExpression } from '../expr/index.js';
import { scopeOf } from '../steps/types.js';
import { defineStepKind, type KindFinding } from './types.js';
import { ignoreOthers, visitLimit } from './work.js';

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

type Choice = z.infer<typeof ChoiceStep>;

export const choiceKind = defineStepKind<Choice>({
  name: 'choice',
  schema: ChoiceStep,
  instant: true,
  routeHint: '; a choice step routes through the next of each branch',
  entered: 'done',
  state: (id, step, scope) => ({
    entry: [{ type: 'enterStep', params: { step: id, status: 'done' } }],
    meta: { stepwise: { kind: 'choice' } },
    always: visitLimit(id, step, scope),
    on: {
      'choice.take': [
        ignoreOthers(id),
        ...step.choice.map((b, index) => ({
          guard: { type: 'branch' as const, params: { index, when: b.when ?? 'otherwise' } },
          target: target(b.next),
          reenter: true,
          actions: { type: 'recordChoice' as const, params: { step: id } },
        })),
      ],
      'choice.none': [
        ignoreOthers(id),
        {
          target: target(FAILED_STATE),
          actions: { type: 'failRun', params: { kind: 'invalid_data', message: `no branch of choice "${id}" matched`, step: id } },
        },
      ],
    },
  }),
  edges: (_id, step) => step.choice.map((branch, index) => ({ to: branch.next, path: ['choice', index, 'next'] })),
  check: (_id, step) => {
    const warnings: KindFinding[] = [];
    const branches = step.choice;
    const firstDefault = branches.findIndex((branch) => branch.when === undefined);
    if (firstDefault === -1) {
      warnings.push({ path: ['choice', branches.length - 1], message: 'no default branch: when no condition holds the run fails; add a last branch without when' });
    } else if (firstDefault < branches.length - 1) {
      warnings.push({ path: ['choice', firstDefault + 1], message: `branches after the default branch (choice[${firstDefault}], no when) are never taken` });
    }
    return { errors: [], warnings };
  },
  expressions: (step) => step.choice.flatMap((branch, index) => (branch.when === undefined ? [] : [condition(branch.when, ['choice', index, 'when'])])),
  label: () => '',
  pathEvents: (id, step) => step.choice.map((_, index) => ({ type: 'choice.take', step: id, at: 0, index })),
  handler: {
    async advance(run, { id }, step) {
      const scope = scopeOf({ runId: run.runId, context: run.context() });
      let index = -1;
      try {
        for (let b = 0; b < step.choice.length && index < 0; b++) {
          const when = step.choice[b]?.when;
          if (when === undefined || (await evaluateCondition(when, scope))) index = b;
        }
      } catch (error) {
        const message = (error as Error).message;
        run.send({ type: 'choice.none', step: id, at: run.clock.now(), message: `choice "${id}": ${message}` });
        run.note({ ...run.where(id), event: 'failed', error: { kind: 'invalid_data', message } });
        return { kind: 'moved' };
      }
      index = run.chooseBranch?.(id, run.runId) ?? index;
      if (index < 0) {
        run.send({ type: 'choice.none', step: id, at: run.clock.now() });
        run.note({ ...run.where(id), event: 'failed', error: { kind: 'invalid_data', message: `no branch of choice "${id}" matched` } });
        return { kind: 'moved' };
      }
      run.note({ ...run.where(id), event: 'choice', data: { branch: index, next: step.choice[index]?.next } });
      run.send({ type: 'choice.take', step: id, at: run.clock.now(), index });
      return { kind: 'moved' };
    },
  },
});

/** A `when` as the expression it is checked as (`{% … %}` around what it holds), and where that sits in what was written. */
function condition(when: string, path: readonly PathSegment[]): readonly [string, readonly PathSegment[], number] {
  const inner = unwrapExpression(when);
  const start = inner === when ? 0 : when.indexOf('{%') + 2;
  return [`{%${inner}%}`, path, start - 2];
}
