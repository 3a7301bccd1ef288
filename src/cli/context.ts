/**
 * What the run-related commands share: opening the store, the model server and
 * an engine, printing progress on stderr, and closing it all.
 */
import { crashStoreHooks } from '../engine/crash-points.js';
import { createEngine, type Engine } from '../engine/engine.js';
import type { RunView } from '../engine/view.js';
import type { NewJournalEntry } from '../run/types.js';
import { RunNotFoundError } from '../errors.js';
import { describeStore, isDefaultStore, openStore } from '../store/open.js';
import type { Store } from '../store/types.js';
import { color } from './io.js';
import { createProgress, type Progress } from './progress.js';
import { STORE_ENV, storeArg, storeSpec } from './store-option.js';
import { openModelServer, type ModelServerOptions } from './model-server.js';

export interface CommonOptions {
  store?: string;
  json?: boolean;
  seed?: string;
  faults?: string;
  timeout?: string;
  maxRetries?: string;
  record?: string;
  replay?: string;
  emulator?: boolean;
}

export const log = (line: string) => process.stderr.write(`${line}\n`);

/**
 * What a run command on `spec` would drive for real without a configured model:
 * nothing on the default SQLite file (the emulator is used, and says so), a
 * reason for {@link ModelServerOptions.requireModel} on any other store.
 */
export function modelRequirement(flag: string | undefined): string | undefined {
  const spec = storeSpec(flag);
  return isDefaultStore(spec) ? undefined : `A run on a store other than the default SQLite file (${describeStore(spec)})`;
}

/**
 * Opens the store a `--store` flag (else `STEPWISE_STORE`) names, with the
 * crash points `STEPWISE_CRASH_AT` arms (no-ops when unset). A run that is not
 * found is reported with the store looked in.
 */
export async function withStore<T>(flag: string | undefined, fn: (store: Store) => Promise<T>): Promise<T> {
  const spec = storeSpec(flag);
  const store = await openStore(spec, { hooks: crashStoreHooks });
  try {
    return await fn(store);
  } catch (error) {
    if (error instanceof RunNotFoundError) {
      const from = flag !== undefined ? '' : spec !== undefined ? ` (from ${STORE_ENV})` : ' (the default)';
      throw new RunNotFoundError(error.runId, `${describeStore(spec)}${from}`, `stepwise list${storeArg(flag)}`);
    }
    throw error;
  } finally {
    await store.close();
  }
}

/** Journal events that end a step attempt (as `show`'s timeline pairs them with `started`). */
const ATTEMPT_OUTCOMES: ReadonlySet<string> = new Set(['completed', 'failed', 'loop_detected']);

/**
 * Prints one line per finished step visit as the run commits, and on a
 * terminal a live line for the step in progress.
 */
export function progressPrinter(progress: Progress = createProgress()): (view: RunView, journal?: readonly NewJournalEntry[]) => void {
  const printed = new Set<string>();
  // Visits that ended before this command started were printed by the command that ran them (`send`, `resume`).
  const since = Date.now();
  // The time each step visit's attempts took, as `show` measures them (an attempt's start to its outcome):
  // a visit entered before a pause (budget exhausted, a crash) counts only the attempts it ran.
  const attemptStart = new Map<string, number>();
  const spent = new Map<string, number>();
  return (view, journal = []) => {
    for (const e of journal) {
      const visit = `${view.runId}:${e.step}:${e.visit}`;
      if (e.event === 'started' && e.attempt > 0) attemptStart.set(`${visit}:${e.attempt}`, e.at);
      const started = attemptStart.get(`${visit}:${e.attempt}`);
      if (ATTEMPT_OUTCOMES.has(e.event) && started !== undefined) spent.set(visit, (spent.get(visit) ?? 0) + e.at - started);
    }
    // The visit the budget stopped rests `failed` in the trail; its line says the budget stopped it (a resume goes on from it).
    const stoppedAt = view.status === 'budget_exhausted' && view.failure?.kind === 'budget' ? view.steps.findLastIndex((s) => s.id === view.failure?.step) : -1;
    view.steps.forEach((step, index) => {
      const key = `${view.runId}:${index}:${step.status}`;
      if (step.status === 'running' || printed.has(key) || (step.endedAt !== null && step.endedAt < since)) return;
      printed.add(key);
      const stopped = index === stoppedAt && step.status === 'failed';
      const mark = stopped ? color.yellow('■') : step.status === 'done' ? color.green('✓') : step.status === 'waiting' ? color.yellow('…') : step.status === 'skipped' ? color.dim('-') : color.red('✗');
      const ran = spent.get(`${view.runId}:${step.id}:${step.visit}`);
      const took = ran !== undefined ? ` ${ran} ms` : step.endedAt !== null ? ` ${step.endedAt - step.startedAt} ms` : '';
      const outcome = stopped ? 'stopped: out of budget' : step.status;
      progress.line(`${mark} ${step.id} ${outcome}${step.visit > 1 ? ` (visit ${step.visit})` : ''} · ${step.attempts} attempt${step.attempts === 1 ? '' : 's'} · ${step.tokens} tokens${took}`);
    });
    const current = view.steps[view.steps.length - 1];
    if (current?.status === 'running') {
      progress.status(`${current.id} · attempt ${Math.max(1, current.attempts)} · run ${view.usage.totalTokens}/${view.budget.tokens} tokens · step ${view.steps.length}`);
    } else {
      progress.done();
    }
  };
}

export async function withEngine<T>(
  store: Store,
  server: Omit<ModelServerOptions, 'log'> | null,
  quiet: boolean,
  fn: (engine: Engine) => Promise<T>,
): Promise<T> {
  // Commands that make no model call (cancel) need no model server.
  const model = server ? await openModelServer({ ...server, log }) : { model: { apiKey: 'unused' }, close: async () => {} };
  try {
    const engine = createEngine({ store, model: model.model });
    if (!quiet) engine.subscribe(progressPrinter());
    return await fn(engine);
  } finally {
    await model.close();
  }
}
