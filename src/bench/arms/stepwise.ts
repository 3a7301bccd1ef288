/**
 * The Stepwise arm: the same work as a Stepwise definition, run by the real
 * engine against the same emulator; backoffs on a ManualClock that advances
 * instantly, so retries take no real time.
 */
import Anthropic from '@anthropic-ai/sdk';
import { loadDefinitionFromObject } from '../../definition/load.js';
import { ManualClock } from '../../engine/clock.js';
import { createEngine } from '../../engine/engine.js';
import type { Store } from '../../store/types.js';
import { checkLedger } from '../check.js';
import { expectedRunOutput, toDefinition } from '../definition.js';
import type { Scenario } from '../scenarios.js';
import { stepwiseTools, type LedgerEntry } from '../tools.js';
import { countingFetch, type CallCounter } from './counting-fetch.js';
import type { ModelArmOptions } from './stateless.js';
import { sentTokens } from './sent-tokens.js';
import type { ScenarioOutcome } from './types.js';

export interface StepwiseArmOptions extends ModelArmOptions {
  /** Every step a `claude` step (see `toDefinition`). */
  readonly allClaude?: boolean;
}

export async function runStepwise(scenario: Scenario, store: Store, options: StepwiseArmOptions): Promise<ScenarioOutcome> {
  const ledger: LedgerEntry[] = [];
  const counter: CallCounter = { requests: 0, replies: 0 };
  const maxRetries = options.maxRetries ?? 2;
  const client = new Anthropic({ baseURL: options.baseURL, apiKey: 'bench', maxRetries, fetch: countingFetch(counter) });
  const loaded = loadDefinitionFromObject(toDefinition(scenario, { allClaude: options.allClaude ?? false }), stepwiseTools(scenario, ledger), scenario.id);
  const engine = createEngine({
    store,
    model: { client, maxRetries, ...(options.model ? { model: options.model } : {}) },
    clock: new ManualClock({ autoAdvance: true }),
  });
  const view = await engine.start(loaded, { input: { document: scenario.document }, runId: scenario.id });
  const check = checkLedger(scenario, ledger);
  let failure: string | null = null;
  if (view.status !== 'done') failure = view.failure?.kind ?? view.status;
  else if (!check.ok) failure = check.kind;
  else if (JSON.stringify(view.output) !== JSON.stringify(expectedRunOutput(scenario))) failure = 'wrong_output';
  return {
    scenario: scenario.id,
    steps: scenario.steps.length,
    completed: failure === null,
    failure,
    resumable: failure === null ? null : view.resumable,
    inputTokens: sentTokens(view.usage) - view.usage.outputTokens,
    outputTokens: view.usage.outputTokens,
    modelCalls: counter.replies,
    httpRequests: counter.requests,
  };
}
