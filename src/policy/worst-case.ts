/**
 * The worst-case token bound of a definition, as `stepwise validate` reports
 * it: every model step on the longest path from the start to a final step,
 * each visited as often as it may be, each visit using every attempt, each
 * attempt sending its counted prompt and receiving its full `max_tokens`
 * (doubled on the attempts after a `max_tokens` stop).
 *
 * Cycles are bounded by their visit limits (a step's `maxVisits`, else the
 * workflow's `limits.maxVisits`, default 10): the steps of a cycle count that
 * many visits each, a step outside cycles one. Run data the prompt declares in
 * `context:` is counted as the expression text, since its size is only known
 * at run time; the summary of earlier steps counts at its cap. `pause_turn`
 * continuations within an attempt are not included.
 */
import { edges, startStep } from '../definition/graph.js';
import type { Workflow } from '../definition/schema.js';
import { kindOf } from '../kinds/index.js';
import type { ToolSchema } from '../kinds/types.js';
import { resolveRetry } from './backoff.js';
import { resolveBudget } from './budget.js';
import { resolveLimits } from './limits.js';
import { stronglyConnected } from '../util/components.js';

/** The tool a model step fills, as sent to the model. */
export type { ToolSchema };

/** The bound of one step: per attempt, and over all its visits and attempts. */
export interface StepBound {
  readonly step: string;
  readonly visits: number;
  readonly attempts: number;
  /** Counted input tokens of one attempt. */
  readonly inputTokens: number;
  readonly maxTokens: number;
  /** visits × (attempts × inputTokens + maxTokens + (attempts − 1) × 2 × maxTokens). */
  readonly tokens: number;
}

export interface WorstCase {
  /** The bound, in tokens (input + output). */
  readonly tokens: number;
  /** The steps of the longest path, in order (the steps of a cycle together). */
  readonly path: readonly string[];
  /** The model steps on that path. */
  readonly steps: readonly StepBound[];
  /** The run's token budget and the point no call may cross (`stopAt × tokens`). */
  readonly budget: { readonly tokens: number; readonly stopAt: number; readonly limit: number };
  /** True when the bound is past `stopAt × tokens`: a run that meets every fault may stop `budget_exhausted`. */
  readonly exceedsBudget: boolean;
}

/**
 * Tokens one step visit may use at worst: every attempt sends its prompt; the
 * first receives `maxTokens`, each later one twice that (the doubling after a
 * `max_tokens` stop).
 */
export function visitWorstCase(inputTokens: number, maxTokens: number, attempts: number): number {
  return attempts * inputTokens + maxTokens + (attempts - 1) * 2 * maxTokens;
}

/**
 * Computes the worst-case token bound of a workflow.
 *
 * @example
 * const bound = worstCaseTokens(loaded.workflow, (name) => schemaOf(loaded.tools.get(name)));
 * if (bound.exceedsBudget) console.warn(`worst case ${bound.tokens} tokens`);
 */
export function worstCaseTokens(workflow: Workflow, toolOf: (name: string) => ToolSchema | undefined = () => undefined): WorstCase {
  const ids = Object.keys(workflow.steps);
  const out = new Map<string, string[]>(ids.map((id) => [id, []]));
  for (const edge of edges(workflow)) if (workflow.steps[edge.to]) out.get(edge.from)?.push(edge.to);
  const components = stronglyConnected(ids, out);
  const componentOf = new Map<string, number>();
  components.forEach((members, index) => members.forEach((id) => componentOf.set(id, index)));

  const bounds = new Map<string, StepBound>();
  for (const members of components) {
    const cyclic = members.length > 1 || (out.get(members[0]!) ?? []).includes(members[0]!);
    for (const id of members) {
      const step = workflow.steps[id]!;
      const bound = kindOf(step)?.worstCase?.(step, workflow, toolOf);
      if (!bound) continue;
      const own = step as { maxVisits?: number; retry?: Workflow['retry'] };
      const visits = cyclic ? resolveLimits(workflow.limits, own.maxVisits).maxVisits : 1;
      const attempts = bound.attempts ?? resolveRetry(own.retry, workflow.retry).maxAttempts;
      const { maxTokens, inputTokens } = bound;
      const tokens = visits * visitWorstCase(inputTokens, maxTokens, attempts);
      bounds.set(id, { step: id, visits, attempts, inputTokens, maxTokens, tokens });
    }
  }

  // Longest path over the DAG of components, from the start's to one holding a final step. Components come
  // successors first (see stronglyConnected), so one pass in that order sees every successor done: no recursion.
  const weight = (index: number) => components[index]!.reduce((sum, id) => sum + (bounds.get(id)?.tokens ?? 0), 0);
  const best: Array<{ tokens: number; next: number | null } | null> = [];
  components.forEach((members, index) => {
    let tail: { tokens: number; next: number | null } | null = members.some((id) => kindOf(workflow.steps[id]!)?.ends === true) ? { tokens: 0, next: null } : null;
    const successors = new Set(members.flatMap((id) => out.get(id) ?? []).map((to) => componentOf.get(to)!).filter((c) => c !== index));
    for (const next of successors) {
      const candidate = best[next];
      if (candidate && (!tail || candidate.tokens > tail.tokens)) tail = { tokens: candidate.tokens, next };
    }
    best[index] = tail ? { tokens: weight(index) + tail.tokens, next: tail.next } : null;
  });
  const chain = (from: number): number[] => {
    const indexes: number[] = [];
    for (let at: number | null = from; at !== null; at = best[at]?.next ?? null) indexes.push(at);
    return indexes;
  };
  const start = componentOf.get(startStep(workflow));
  const found = start === undefined ? null : best[start];
  const path = (found && start !== undefined ? chain(start) : []).flatMap((index) => components[index]!);
  const budget = resolveBudget(workflow.budget);
  const limit = Math.floor(budget.stopAt * budget.tokens);
  const tokens = found?.tokens ?? 0;
  return {
    tokens,
    path,
    steps: path.flatMap((id) => (bounds.has(id) ? [bounds.get(id)!] : [])),
    budget: { tokens: budget.tokens, stopAt: budget.stopAt, limit },
    exceedsBudget: tokens > limit,
  };
}
