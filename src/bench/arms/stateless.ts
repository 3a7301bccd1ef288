/**
 * The stateless arm: Anthropic's own SDK tool runner over the whole task in
 * one prompt, the model choosing every call, the full transcript resent on
 * every turn (`thread: false`), as in the SDK's classic examples.
 */
import Anthropic from '@anthropic-ai/sdk';
import { checkLedger } from '../check.js';
import type { Scenario } from '../scenarios.js';
import { sdkTools, type LedgerEntry } from '../tools.js';
import { countingFetch, type CallCounter } from './counting-fetch.js';
import { sentInputTokens } from './sent-tokens.js';
import type { ScenarioOutcome } from './types.js';

export interface ModelArmOptions {
  readonly baseURL: string;
  readonly model?: string;
  /** HTTP retries of the SDK per request (its default, 2). */
  readonly maxRetries?: number;
}

/** Generous: three turns per step plus slack. */
export function maxIterationsFor(scenario: Scenario): number {
  return scenario.steps.length * 3 + 5;
}

export async function runStateless(scenario: Scenario, options: ModelArmOptions): Promise<ScenarioOutcome> {
  const ledger: LedgerEntry[] = [];
  const counter: CallCounter = { requests: 0, replies: 0 };
  const client = new Anthropic({ baseURL: options.baseURL, apiKey: 'bench', maxRetries: options.maxRetries ?? 2, fetch: countingFetch(counter) });
  const tools = await sdkTools(scenario, ledger);
  const runner = client.beta.messages.toolRunner({
    model: options.model ?? 'claude-sonnet-4-6',
    max_tokens: 1024,
    messages: [{ role: 'user', content: scenario.taskPrompt }],
    tools,
    max_iterations: maxIterationsFor(scenario),
    thread: false,
  });
  let inputTokens = 0;
  let outputTokens = 0;
  let turns = 0;
  let lastStop: string | null = null;
  let error: string | null = null;
  try {
    for await (const message of runner) {
      turns++;
      inputTokens += sentInputTokens(message.usage);
      outputTokens += message.usage.output_tokens;
      lastStop = message.stop_reason;
    }
  } catch (cause) {
    error = cause instanceof Anthropic.APIError ? 'model_error' : 'runner_error';
  }
  const check = checkLedger(scenario, ledger);
  let failure: string | null = null;
  if (error) failure = error;
  else if (!check.ok) failure = check.kind === 'step_missing' && lastStop === 'end_turn' ? 'stopped_early' : check.kind;
  else if (lastStop !== 'end_turn') failure = turns >= maxIterationsFor(scenario) ? 'max_iterations' : `stop_${lastStop ?? 'none'}`;
  return {
    scenario: scenario.id,
    steps: scenario.steps.length,
    completed: failure === null,
    failure,
    resumable: null,
    inputTokens,
    outputTokens,
    modelCalls: counter.replies,
    httpRequests: counter.requests,
  };
}
