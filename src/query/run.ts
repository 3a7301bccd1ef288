/**
 * One run: its stored record, and the run object `run`, `resume`, `send`,
 * `cancel`, `rerun` and `inspect` print with `--json` (and `show --json`
 * extends).
 */
import { toView, type RunView } from '../engine/view.js';
import { RunNotFoundError } from '../errors.js';
import type { RunRecord } from '../run/types.js';
import type { RunReader } from './reader.js';

/** The run object of the `--json` output: a {@link RunView} with each step visit's figures. */
export interface RunJson {
  readonly runId: string;
  readonly workflow: string;
  readonly version: string;
  readonly status: RunView['status'];
  readonly resumable: boolean;
  readonly output: unknown;
  readonly usage: RunView['usage'];
  readonly budget: RunView['budget'];
  readonly steps: ReadonlyArray<{
    readonly id: string;
    readonly visit: number;
    readonly status: RunView['steps'][number]['status'];
    readonly attempts: number;
    readonly tokens: number;
    readonly inputTokens: number;
    readonly outputTokens: number;
    readonly startedAt: number;
    readonly endedAt: number | null;
  }>;
  readonly waitingFor: RunView['waitingFor'];
  readonly failure: RunView['failure'];
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** The stored record of a run; throws {@link RunNotFoundError} when there is none. */
export async function findRun(reader: RunReader, runId: string): Promise<RunRecord> {
  const record = await reader.get(runId);
  if (!record) throw new RunNotFoundError(runId);
  return record;
}

/** The run object of a view (the contract of `--json`). */
export function runJson(view: RunView): RunJson {
  return {
    runId: view.runId,
    workflow: view.workflow,
    version: view.version,
    status: view.status,
    resumable: view.resumable,
    output: view.output,
    usage: view.usage,
    budget: view.budget,
    steps: view.steps.map((s) => ({
      id: s.id,
      visit: s.visit,
      status: s.status,
      attempts: s.attempts,
      tokens: s.tokens,
      inputTokens: s.inputTokens,
      outputTokens: s.outputTokens,
      startedAt: s.startedAt,
      endedAt: s.endedAt,
    })),
    waitingFor: view.waitingFor,
    failure: view.failure,
    createdAt: view.createdAt,
    updatedAt: view.updatedAt,
  };
}

/** The run object of a stored run. */
export async function getRun(reader: RunReader, runId: string): Promise<RunJson> {
  return runJson(toView(await findRun(reader, runId)));
}
