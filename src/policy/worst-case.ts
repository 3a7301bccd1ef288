/**
 * The worst-case token bound of a definition, as `stepwise validate` reports
 * it: every model step on the longest path from the start to a final step,
 * each visited as often as it may be, each visit using every attempt, each
 * attempt sending its counted prompt and receiving its full `max_tokens`
 * (doubled on the attempts after a `max_tokens` stop). With prompt caching on
 * (the default), each attempt whose stable prefix (tool, system text, `shared:`
 * context) may reach the smallest cacheable length counts that prefix as
 * written to the cache, at 1.25 tokens a token.
 *
 * Cycles are bounded by their visit limits (a step's `maxVisits`, else the
 * workflow's `limits.maxVisits`, default 10): the steps of a cycle count that
 * many visits each, a step outside cycles one. Run data the prompt declares in
 * `context:` is sized from the schema of what it references (the workflow's
 * `input`, a tool's output schema, an `analyze` schema: `maxLength`,
 * `maxItems`, enums, numbers); where nothing bounds it the bound is only a
 * lower one and `unbounded` names the fields. The progress summary counts at
 * its cap, each retry adds the feedback at its cap. `pause_turn`
 * continuations are not included: they answer server tools, which a step's
 * forced client tool call never uses.
 * A `parallel` step counts the sum of its branches' worst cases (each branch
 * bounded the same way, to the step that ends it), since every branch runs to its end.
 */
import { edges, nextStep, startStep } from '../definition/graph.js';
import type { Workflow } from '../definition/schema.js';
import { kindOf } from '../kinds/index.js';
import type { ToolSchema } from '../kinds/types.js';
import { resolveRetry } from './backoff.js';
import { resolveBudget } from './budget.js';
import { resolveLimits } from './limits.js';
import { stronglyConnected } from '../util/components.js';
import { visitWorstCase } from './visit-bound.js';

export { visitWorstCase };

/** The tool a model step fills, as sent to the model. */
export type { ToolSchema };

/** The bound of one step: per attempt, and over all its visits and attempts. */
export interface StepBound {
  readonly step: string;
  readonly visits: number;
  readonly attempts: number;
  /** Counted input tokens of one attempt. */
  readonly inputTokens: number;
  /** Input tokens each retry adds at most (the feedback on the rejected attempt). */
  readonly feedbackTokens: number;
  readonly maxTokens: number;
  /** Of `inputTokens`, the cached prefix an attempt may write (0 without caching): each such token counts 1.25. */
  readonly cacheWriteTokens: number;
  /**
   * visits × (attempts × (inputTokens + 0.25 × cacheWriteTokens, rounded up) + (attempts − 1) × feedbackTokens
   * + maxTokens + (attempts − 1) × 2 × maxTokens).
   */
  readonly tokens: number;
  /** The fields that leave this step's prompt unbounded; `tokens` is then a lower bound. */
  readonly unbounded: readonly string[];
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
  /** False when a step on the path has unbounded run data in its prompt: `tokens` is then only a lower bound (print it as `≥ N`). */
  readonly bounded: boolean;
  /** Why not bounded: `<step>: <field path> (reason)` for each unbounded field on the path. */
  readonly unbounded: readonly string[];
}


/**
 * Computes the worst-case token bound of a workflow.
 *
 * @example
 * const bound = worstCaseTokens(loaded.workflow, (name) => schemaOf(loaded.tools.get(name)));
 * if (bound.exceedsBudget) console.warn(`worst case ${bound.tokens} tokens`);
 */
export function worstCaseTokens(
  workflow: Workflow,
  toolOf: (name: string) => ToolSchema | undefined = () => undefined,
  /** The whole workflow when `workflow` is one branch of it: a step's bound looks up earlier steps and defaults there. */
  root: Workflow = workflow,
): WorstCase {
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
      const own = step as { maxVisits?: number; retry?: Workflow['retry'] };
      const sequences = kindOf(step)?.sequences?.(step);
      if (sequences) {
        // Branches run side by side, each to its end: the step costs the sum of their worst cases.
        const visits = cyclic ? resolveLimits(workflow.limits, own.maxVisits).maxVisits : 1;
        const worst = sequences.map((seq) => worstCaseTokens({ ...workflow, steps: { ...seq.steps }, start: seq.start }, toolOf, root));
        const branches = worst.reduce((sum, w) => sum + w.tokens, 0);
        const unbounded = worst.flatMap((w) => w.unbounded);
        if (branches > 0 || unbounded.length > 0) bounds.set(id, { step: id, visits, attempts: 1, inputTokens: 0, feedbackTokens: 0, maxTokens: 0, cacheWriteTokens: 0, tokens: visits * branches, unbounded });
        continue;
      }
      const bound = kindOf(step)?.worstCase?.(step, root, toolOf);
      if (!bound) continue;
      const visits = cyclic ? resolveLimits(workflow.limits, own.maxVisits).maxVisits : 1;
      const attempts = bound.attempts ?? resolveRetry(own.retry, workflow.retry).maxAttempts;
      const { maxTokens, inputTokens } = bound;
      const feedbackTokens = bound.feedbackTokens ?? 0;
      const cacheWriteTokens = bound.cacheWriteTokens ?? 0;
      const tokens = visits * visitWorstCase(inputTokens, maxTokens, attempts, feedbackTokens, cacheWriteTokens);
      bounds.set(id, { step: id, visits, attempts, inputTokens, feedbackTokens, maxTokens, cacheWriteTokens, tokens, unbounded: bound.unbounded ?? [] });
    }
  }

  // Longest path over the DAG of components, from the start's to one holding a final step. Components come
  // successors first (see stronglyConnected), so one pass in that order sees every successor done: no recursion.
  const weight = (index: number) => components[index]!.reduce((sum, id) => sum + (bounds.get(id)?.tokens ?? 0), 0);
  const best: Array<{ tokens: number; next: number | null } | null> = [];
  components.forEach((members, index) => {
    // A path ends at a final step, or (in a branch) at a step that flows out of its branch.
    const exit = (id: string) => kindOf(workflow.steps[id]!)?.ends === true || (kindOf(workflow.steps[id]!)?.flows === true && nextStep(workflow, id) === undefined);
    let tail: { tokens: number; next: number | null } | null = members.some(exit) ? { tokens: 0, next: null } : null;
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
  const steps = path.flatMap((id) => (bounds.has(id) ? [bounds.get(id)!] : []));
  // A step off the longest path may be unbounded too: any run reaching it makes the bound a lower one.
  const unbounded = [...bounds.values()].flatMap((b) => b.unbounded.map((field) => `${b.step}: ${field}`));
  return {
    tokens,
    path,
    steps,
    budget: { tokens: budget.tokens, stopAt: budget.stopAt, limit },
    exceedsBudget: tokens > limit,
    bounded: unbounded.length === 0,
    unbounded,
  };
}
