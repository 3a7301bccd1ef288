/**
 * One run: its stored record, and the run object `run`, `resume`, `send`,
 * `cancel`, `rerun` and `inspect` print with `--json` (and `show --json`
 * extends).
 */
import type { RunView } from '../engine/view.js';
import { runView } from '../engine/waiting-view.js';
import { RunNotFoundError, StepwiseError } from '../errors.js';
import { cacheFields, type RunRecord } from '../run/types.js';
import type { RunReader } from './reader.js';

/**
 * Every epoch-milliseconds field `xAt` of a `--json` object has an ISO 8601
 * twin `xAtIso` beside it (UTC, e.g. `2026-12-01T01:16:43.906Z`; null when
 * `xAt` is): the number for machines doing arithmetic, the string for people
 * and for tools that parse dates.
 */
export function iso(ms: number): string;
export function iso(ms: number | null): string | null;
export function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

/** The run object of the `--json` output: a {@link RunView} with each step visit's figures. */
export interface RunJson {
  readonly runId: string;
  readonly workflow: string;
  readonly version: string;
  readonly status: RunView['status'];
  readonly resumable: boolean;
  /** It failed in a `map` step with failed items, which `stepwise redrive <runId>` runs again. */
  readonly redrivable: boolean;
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
    readonly cacheCreationInputTokens?: number;
    readonly cacheReadInputTokens?: number;
    readonly startedAt: number;
    readonly startedAtIso: string;
    readonly endedAt: number | null;
    readonly endedAtIso: string | null;
  }>;
  readonly waitingFor: (NonNullable<RunView['waitingFor']> & { readonly timeoutAtIso: string | null }) | null;
  /** Every wait of the run (see {@link RunView.waits}); `waitingFor` is the first. */
  readonly waits: ReadonlyArray<RunView['waits'][number] & { readonly timeoutAtIso: string | null }>;
  readonly failure: RunView['failure'];
  readonly createdAt: number;
  readonly createdAtIso: string;
  readonly updatedAt: number;
  readonly updatedAtIso: string;
}

/** The shortest prefix of a run id that {@link findRun} accepts in place of the whole id, as git accepts abbreviated hashes. */
export const MIN_RUN_ID_PREFIX = 4;

const SHOWN_CANDIDATES = 10;

/**
 * The stored record of a run, by its id or by an unambiguous prefix of it (at
 * least {@link MIN_RUN_ID_PREFIX} characters; an exact id always wins).
 *
 * @throws RunNotFoundError when no run matches.
 * @throws StepwiseError `usage` when a prefix matches several runs, listing them.
 * @example
 * const record = await findRun(store, '3f2a');   // the run 3f2a9c…, if it is the only one
 */
export async function findRun(reader: RunReader, runId: string): Promise<RunRecord> {
  const record = await reader.get(runId);
  if (record) return record;
  if (runId.length < MIN_RUN_ID_PREFIX) throw new RunNotFoundError(runId);
  // A store that ignores `idPrefix` returns more runs: filter again.
  const matches = (await reader.list({ idPrefix: runId })).filter((r) => r.id.startsWith(runId));
  const [only] = matches;
  if (!only) throw new RunNotFoundError(runId);
  if (matches.length === 1) return only;
  // A parent's id prefixes its child runs' ids: a prefix matching one top-level run and its children means that run.
  const top = matches.filter((r) => !r.options.parent);
  if (top.length === 1 && matches.every((r) => r.id.startsWith(top[0]!.id))) return top[0]!;
  const shown = matches.slice(0, SHOWN_CANDIDATES).map((r) => `  ${r.id} (${r.workflow}, ${r.status})`);
  const more = matches.length > SHOWN_CANDIDATES ? [`  … and ${matches.length - SHOWN_CANDIDATES} more`] : [];
  throw new StepwiseError('usage', [`The run id prefix "${runId}" is ambiguous: ${matches.length} runs match; give more of the id:`, ...shown, ...more].join('\n'));
}

/** The run object of a view (the contract of `--json`). */
export function runJson(view: RunView): RunJson {
  return {
    runId: view.runId,
    workflow: view.workflow,
    version: view.version,
    status: view.status,
    resumable: view.resumable,
    redrivable: view.redrivable,
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
      ...cacheFields(s.cacheCreationInputTokens ?? 0, s.cacheReadInputTokens ?? 0),
      startedAt: s.startedAt,
      startedAtIso: iso(s.startedAt),
      endedAt: s.endedAt,
      endedAtIso: iso(s.endedAt),
    })),
    waitingFor: view.waitingFor && { ...view.waitingFor, timeoutAtIso: iso(view.waitingFor.timeoutAt) },
    waits: view.waits.map((wait) => ({ ...wait, timeoutAtIso: iso(wait.timeoutAt) })),
    failure: view.failure,
    createdAt: view.createdAt,
    createdAtIso: iso(view.createdAt),
    updatedAt: view.updatedAt,
    updatedAtIso: iso(view.updatedAt),
  };
}

/** The run object of a stored run. */
export async function getRun(reader: RunReader, runId: string): Promise<RunJson> {
  return runJson(await runView(reader, await findRun(reader, runId)));
}
