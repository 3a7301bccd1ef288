/**
 * `review` on a `claude` step: after the model fills the tool input and it
 * passes validation, the step waits (phase `reviewing`) for a person to
 * APPROVE it (as is, or edited: `data.input`) or REJECT it (`data.reason`)
 * before the tool runs. Approved, the step goes through `approved` to
 * `running` with the approved input (the model is not called again); rejected,
 * it takes `onReject`, else the run fails as `rejected`. The proposal lives in
 * the step's state in the snapshot, so a restart loses nothing.
 */
import { z } from 'zod';
import { FAILED_STATE, stepRunOf } from '../compile/context.js';
import type { RunEvent } from '../compile/events.js';
import { target, type StateConfig, type Transitions } from '../compile/setup.js';
import { StepId } from '../definition/fields.js';
import { unwrapExpression } from '../expr/index.js';
import { jsonDiff } from '../util/diff.js';
import type { Admission, AdmitScope, KindEdge, KindFinding } from './types.js';
import { ignoreOthers } from './work.js';
import { safeParse } from '../util/plain-zod.js';

/** The fields `review` adds to a step. */
export const reviewFields = {
  review: z
    .union([
      z.boolean(),
      z.strictObject({ when: z.string().describe('Condition ($proposed is the proposed tool input); review only when it holds') }),
    ])
    .optional()
    .describe('Wait for a person to APPROVE (optionally editing data.input) or REJECT the tool input Claude proposed, before the tool runs'),
  onReject: StepId.optional().describe('Step to go to when the reviewer rejects the proposed input (default: the run fails as rejected)'),
};

export interface ReviewFields {
  readonly review?: boolean | { readonly when: string } | undefined;
  readonly onReject?: string | undefined;
  readonly claude: { readonly tool: string };
}

/** The events a step under review accepts. */
export const REVIEW_EVENTS = ['APPROVE', 'REJECT'] as const;

/** The phase in which a reviewed step waits for its reviewer. */
export const REVIEWING = 'reviewing';

/**
 * Characters of the rendered prompt kept with a review (what the inbox shows the
 * reviewer); a longer one is cut, ending with `…[trimmed N chars]`. The inbox is a
 * listing and the text is kept in the snapshot, so a prompt that pulls in a whole
 * document must not make either grow with it.
 */
export const REVIEW_PROMPT_MAX_CHARS = 2000;

export const reviewed = (step: Pick<ReviewFields, 'review'>): boolean => step.review !== undefined && step.review !== false;

/** The transition into review from `running`, and the `reviewing` and `approved` phases; nothing for a step without review. */
export function reviewStates(id: string, step: ReviewFields): { running: Transitions; states: Record<string, StateConfig> } {
  if (!reviewed(step)) return { running: {}, states: {} };
  const params = { step: id };
  const reject = step.onReject
    ? { target: target(step.onReject), reenter: true, actions: { type: 'rejectInput', params: { step: id, failRun: false } } }
    : { target: target(FAILED_STATE), actions: { type: 'rejectInput', params: { step: id, failRun: true } } };
  return {
    running: {
      'step.proposed': [ignoreOthers(id), { target: REVIEWING, actions: [{ type: 'chargeUsage', params }, { type: 'proposeInput', params }] }],
    },
    states: {
      [REVIEWING]: {
        on: {
          APPROVE: [ignoreOthers(id), { target: 'approved', actions: { type: 'approveInput', params } }],
          REJECT: [ignoreOthers(id), reject] as Transitions['REJECT'],
        },
      },
      // The approved input's attempt starts as any attempt does (committed before the tool runs), without a new attempt number.
      approved: { on: { 'step.run': [ignoreOthers(id), { target: 'running' }] } },
    },
  };
}

export function reviewEdges(step: ReviewFields): KindEdge[] {
  return step.onReject !== undefined ? [{ to: step.onReject, path: ['onReject'] }] : [];
}

export function reviewCheck(step: ReviewFields): KindFinding[] {
  if (step.onReject !== undefined && !reviewed(step)) {
    return [{ path: ['onReject'], message: 'onReject needs a review; add review: true (or review: { when: ... })' }];
  }
  return [];
}

export function reviewExpressions(step: ReviewFields): Array<readonly [unknown, Array<string | number>]> {
  return typeof step.review === 'object' ? [[`{%${unwrapExpression(step.review.when)}%}`, ['review', 'when']]] : [];
}

export function reviewAccepts(step: ReviewFields, phase: string | null): readonly string[] {
  return reviewed(step) && phase === REVIEWING ? REVIEW_EVENTS : [];
}

/** A path test's events for a reviewed step: the proposal, then approve or reject. */
export function reviewPathEvents(id: string, step: ReviewFields, phase: string | null): RunEvent[] {
  if (!reviewed(step)) return [];
  if (phase === 'running') return [{ type: 'step.proposed', step: id, at: 0, tool: step.claude.tool, schema: {}, input: {}, usage: { inputTokens: 0, outputTokens: 0, totalTokens: 0, usd: 0 } }];
  if (phase === REVIEWING) return REVIEW_EVENTS.map((type) => ({ type, step: id, at: 0 }));
  if (phase === 'approved') return [{ type: 'step.run', step: id, at: 0, projectedTokens: 0, projectedUsd: 0 }];
  return [];
}

const isRecord = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * Checks the data of APPROVE and REJECT: an edited `data.input` must pass the
 * tool's whole input schema (a refusal names the field, e.g.
 * `data.input.amount`); an approval journals the edit as a list of changes.
 */
export function admitReview(id: string, step: ReviewFields, event: { readonly type: string; readonly data: unknown }, scope: AdmitScope): Admission {
  const review = stepRunOf(scope.context, id).review;
  if (!review) return { ok: false, message: `step "${id}" has no proposed input to review` };
  const data = event.data;
  if (data !== undefined && data !== null && !isRecord(data)) return { ok: false, message: 'data must be an object', field: 'data' };
  if (event.type === 'REJECT') {
    if (isRecord(data) && data.reason !== undefined && typeof data.reason !== 'string') return { ok: false, message: 'data.reason must be a string', field: 'data.reason' };
    return { ok: true };
  }
  if (!isRecord(data) || data.input === undefined) return { ok: true, journal: { edits: [] } };
  const tool = scope.tools.get(step.claude.tool);
  if (!tool) return { ok: false, message: `step "${id}" uses tool "${step.claude.tool}", which no module provides` };
  const parsed = safeParse(tool.input, data.input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = ['data', 'input', ...(issue?.path ?? [])].map((k, i) => (typeof k === 'number' ? `[${k}]` : i === 0 ? String(k) : `.${String(k)}`)).join('');
    const more = parsed.error.issues.length > 1 ? ` (and ${parsed.error.issues.length - 1} more)` : '';
    return { ok: false, message: `the edited input for ${tool.name} is invalid: ${field}: ${issue?.message ?? 'invalid'}${more}`, field };
  }
  return { ok: true, journal: { edits: jsonDiff(review.proposed, data.input) } };
}
