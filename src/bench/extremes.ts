/**
 * The cheapest and the dearest workflow of one size, by scenario: the two
 * ends the max/min token spread target compares, with the model calls and
 * HTTP requests that explain them (a retried model step is one more call, and
 * resends what that step needs).
 */
import type { ScenarioOutcome } from './arms/types.js';

/** One workflow's tokens (input of every kind plus output) and calls. */
export interface WorkflowTokens {
  readonly scenario: string;
  readonly tokens: number;
  readonly modelCalls: number;
  readonly httpRequests: number;
}

export interface TokenExtremes {
  readonly min: WorkflowTokens;
  readonly max: WorkflowTokens;
  /** max / min to two decimals, as the spread target rounds it. */
  readonly spread: number;
}

const tokensOf = (o: ScenarioOutcome): WorkflowTokens => ({
  scenario: o.scenario,
  tokens: o.inputTokens + o.outputTokens,
  modelCalls: o.modelCalls,
  httpRequests: o.httpRequests,
});

/**
 * The cheapest and dearest of the `steps`-step workflows (the first listed on
 * a tie); null when there is none or the cheapest used no tokens.
 *
 * @example
 * tokenExtremes(outcomes, 5); // { min: { scenario: 'enrichment-address-0089', tokens: 1309, … }, max: { … }, spread: 2.5 }
 */
export function tokenExtremes(outcomes: readonly ScenarioOutcome[], steps: number): TokenExtremes | null {
  let min: WorkflowTokens | undefined;
  let max: WorkflowTokens | undefined;
  for (const outcome of outcomes) {
    if (outcome.steps !== steps) continue;
    const workflow = tokensOf(outcome);
    if (!min || workflow.tokens < min.tokens) min = workflow;
    if (!max || workflow.tokens > max.tokens) max = workflow;
  }
  if (!min || !max || min.tokens <= 0) return null;
  return { min, max, spread: Math.round((max.tokens / min.tokens) * 100) / 100 };
}
