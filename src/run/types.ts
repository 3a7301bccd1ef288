/**
 * The shapes of a run as stored and as shown: the record a store keeps, the
 * journal entries appended at every transition, and the failure kinds.
 */
import type { Workflow } from '../definition/schema.js';
import { roundUsd } from '../util/usd.js';

export type RunStatus = 'running' | 'waiting' | 'done' | 'failed' | 'budget_exhausted' | 'cancelled';

/** Every run status, in lifecycle order. */
export const runStatuses: readonly RunStatus[] = ['running', 'waiting', 'done', 'failed', 'budget_exhausted', 'cancelled'];

export const finishedStatuses: readonly RunStatus[] = ['done', 'failed', 'cancelled'];

export type FailureKind =
  | 'budget'
  | 'retries_exhausted'
  | 'breaker_open'
  | 'loop'
  | 'invalid_data'
  | 'invalid_output'
  | 'tool_error'
  | 'timeout'
  | 'interrupted'
  | 'engine_error'
  | 'definition_invalid'
  | 'model_error'
  | 'auth_error'
  | 'permission_error'
  | 'not_found'
  | 'invalid_request'
  | 'refusal'
  | 'max_tokens'
  | 'context_window'
  | 'deadline'
  | 'rejected'
  | 'cancelled';

export interface Failure {
  readonly kind: FailureKind;
  readonly step: string | null;
  readonly message: string;
  /** A failure that came up from below `step` (a child run, a map item, a parallel branch): where it began. */
  readonly origin?: FailureOrigin;
}

/**
 * Where a failure that came up through child runs or parallel branches began: the steps from the failed one down
 * to it (a map item as `[index]` after its map step) and the message it began with. The steps above it word their
 * failures from it (src/engine/failure-origin.ts), so a failure nested at any depth reads in one short line.
 */
export interface FailureOrigin {
  readonly path: readonly string[];
  readonly message: string;
}

export interface Usage {
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly totalTokens: number;
  /** Dollars, from the price table of the models used; prompt-cache writes and reads at their rates. */
  readonly usd: number;
  /**
   * Input tokens written to the prompt cache (the API's `cache_creation_input_tokens`), besides
   * `inputTokens`; absent when none. `totalTokens` counts each as 1.25 tokens (see `cacheWeightedTokens`).
   */
  readonly cacheCreationInputTokens?: number;
  /** Input tokens read from the prompt cache (`cache_read_input_tokens`), besides `inputTokens`; each counts as 0.1 token. */
  readonly cacheReadInputTokens?: number;
}

export const zeroUsage: Usage = { inputTokens: 0, outputTokens: 0, totalTokens: 0, usd: 0 };

/** The prompt-cache fields of a sum: present only when not zero, so usage without caching keeps its four fields. */
export function cacheFields(creation: number, read: number): Pick<Usage, 'cacheCreationInputTokens' | 'cacheReadInputTokens'> {
  return { ...(creation > 0 ? { cacheCreationInputTokens: creation } : {}), ...(read > 0 ? { cacheReadInputTokens: read } : {}) };
}

/**
 * Every input token the model server counted in `usage`: the uncached input,
 * the cache writes and the cache reads — the whole prompt, what a local
 * estimate of the request is compared with.
 *
 * @example
 * promptTokens({ inputTokens: 38, outputTokens: 83, totalTokens: 15363, usd: 0.047, cacheCreationInputTokens: 12193 }); // 12231
 */
export function promptTokens(usage: Usage): number {
  return usage.inputTokens + (usage.cacheCreationInputTokens ?? 0) + (usage.cacheReadInputTokens ?? 0);
}

export function addUsage(a: Usage, b: Usage): Usage {
  return {
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    totalTokens: a.totalTokens + b.totalTokens,
    usd: roundUsd(a.usd + b.usd),
    ...cacheFields((a.cacheCreationInputTokens ?? 0) + (b.cacheCreationInputTokens ?? 0), (a.cacheReadInputTokens ?? 0) + (b.cacheReadInputTokens ?? 0)),
  };
}

/** a less b, field by field (what was spent between two totals). */
export function subUsage(a: Usage, b: Usage): Usage {
  return {
    inputTokens: a.inputTokens - b.inputTokens,
    outputTokens: a.outputTokens - b.outputTokens,
    totalTokens: a.totalTokens - b.totalTokens,
    usd: roundUsd(a.usd - b.usd),
    ...cacheFields((a.cacheCreationInputTokens ?? 0) - (b.cacheCreationInputTokens ?? 0), (a.cacheReadInputTokens ?? 0) - (b.cacheReadInputTokens ?? 0)),
  };
}

/** What a run was started with that a resume reuses unless told otherwise. */
export interface RunOptions {
  readonly seed?: number;
  /** Fault spec or profile name for the emulator. */
  readonly faults?: string;
  /** Total token budget, overriding the definition's. */
  readonly budget?: number;
  /** Set on a child run (a `workflow` step's run, a `map` item): the run and step that started it. */
  readonly parent?: ParentLink;
}

/** Where a child run comes from: its parent run, the step that started it, and for a map item its index and attempt. */
export interface ParentLink {
  readonly runId: string;
  readonly step: string;
  readonly visit: number;
  readonly index?: number;
  readonly attempt?: number;
  /** For a map item: the redrive round that created it (0 before any redrive). */
  readonly round?: number;
  /**
   * For a map item whose run a `resume` of the parent went on with after it failed: that resume's number in the
   * map step's visit (its `StepRun.resumes`). A failed item is resumed once per resume: not again by the same one.
   */
  readonly resumed?: number;
  /**
   * How deep the child sits: 1 for a child of a top-level run, one more per level below. Absent on children
   * created before depths were recorded, which count as 1.
   */
  readonly depth?: number;
  /** The `limits.maxDepth` in force above the child (the smallest the runs above set): no run below it may be deeper. */
  readonly maxDepth?: number;
}

/** The definition a run started with; the run finishes on it whatever happens to the file. */
export interface StoredDefinition {
  readonly workflow: Workflow;
  /** Absolute path of the definition file, when it came from one. */
  readonly source: string | null;
  /** Absolute paths of the modules that export the run's tools. */
  readonly toolModules: readonly string[];
}

export interface Lease {
  readonly owner: string;
  readonly until: number;
}

export interface RunRecord {
  readonly id: string;
  readonly workflow: string;
  /** Content hash of the definition the run started with. */
  readonly version: string;
  readonly definition: StoredDefinition;
  readonly status: RunStatus;
  readonly input: unknown;
  readonly output: unknown;
  readonly failure: Failure | null;
  readonly usage: Usage;
  /** XState `getPersistedSnapshot()` of the run's actor. */
  readonly snapshot: unknown;
  readonly options: RunOptions;
  /** When a timer of the run is due (retry backoff, wait timeout), ms since epoch. */
  readonly wakeAt: number | null;
  readonly lease: Lease | null;
  readonly createdAt: number;
  readonly updatedAt: number;
  /** Incremented by every commit; a commit may require the revision it read. */
  readonly revision: number;
}

export type JournalEvent =
  | 'created'
  | 'started'
  | 'completed'
  | 'failed'
  | 'retry_scheduled'
  | 'waiting'
  | 'resumed'
  | 'event'
  | 'timeout'
  | 'choice'
  | 'budget_exhausted'
  | 'loop_detected'
  | 'breaker'
  | 'model_call'
  | 'cancelled'
  | 'branch_failed'
  | 'finished';

export interface JournalEntry {
  readonly runId: string;
  /** Position in the run's journal, from 1. */
  readonly seq: number;
  readonly step: string | null;
  readonly visit: number;
  readonly attempt: number;
  readonly event: JournalEvent;
  readonly at: number;
  readonly input?: unknown;
  readonly output?: unknown;
  readonly usage?: Usage;
  readonly latencyMs?: number;
  readonly error?: { readonly kind: string; readonly message: string };
  readonly data?: unknown;
}

export type NewJournalEntry = Omit<JournalEntry, 'runId' | 'seq'>;

/** The changes one transition makes to a run; written with its journal entries in one transaction. */
export interface RunPatch {
  readonly status: RunStatus;
  readonly snapshot: unknown;
  readonly output?: unknown;
  readonly failure: Failure | null;
  readonly usage: Usage;
  readonly wakeAt: number | null;
  readonly options?: RunOptions;
}

export interface RunFilter {
  readonly status?: readonly RunStatus[];
  readonly workflow?: string;
  /** Only runs whose id starts with this text (exactly, case-sensitive): how run-id prefixes are resolved. */
  readonly idPrefix?: string;
  /** `null`: top-level runs only (no parent); a run id: the children of that run; absent: every run. */
  readonly parentId?: string | null;
  readonly limit?: number;
}
