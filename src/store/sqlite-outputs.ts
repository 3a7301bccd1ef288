/**
 * Step outputs stored once on SQLite. A completed step's output is journaled
 * (the entry's payload) and kept in the run's snapshot (`context.steps`), which
 * every commit rewrites: a run of n steps would write its first output n + 1
 * times. Instead the snapshot's step result holds `"$outputSeq": <seq>`, the
 * journal entry of the same run that holds the output, and reading the run puts
 * the output back. Journal entries are never changed and are deleted only with
 * their run, so a reference stays good as long as its run exists. A snapshot
 * without references (written before, or with outputs the journal does not
 * hold) reads as it is.
 *
 * Which output objects the journal holds is known by identity: the ones this
 * store journaled (once their commit is durable) and the ones it read back.
 */
import type Database from 'better-sqlite3';
import type { NewJournalEntry } from '../run/types.js';
import { OUTPUT_SEQ, type OutputRef } from './json-text.js';

/** Where an output object is journaled: its run and its entry's seq. */
interface Journaled {
  readonly runId: string;
  readonly seq: number;
}

export interface SqliteOutputs {
  /**
   * The reference function for a commit's snapshot: outputs journaled by this
   * commit (`fresh`) and by earlier ones of the run.
   */
  refFor(runId: string, fresh: ReadonlyMap<object, number> | null): OutputRef;
  /** Outputs of a commit's entries, by object, with their seqs (null when none is an object). */
  journaled(journal: readonly NewJournalEntry[], seqs: readonly number[]): Map<object, number> | null;
  /** Called once the commit that journaled `fresh` is durable: later commits of the run refer to them. */
  keep(runId: string, fresh: ReadonlyMap<object, number> | null): void;
  /** The snapshot as read, references replaced by the outputs they name. */
  resolve(runId: string, snapshot: unknown, text: string): unknown;
}

type Fields = Record<string, unknown>;

const isFields = (value: unknown): value is Fields => typeof value === 'object' && value !== null && !Array.isArray(value);

export function sqliteOutputs(db: Database.Database): SqliteOutputs {
  const known = new WeakMap<object, Journaled>();
  const payloads = db.prepare<[string, string], { seq: number; payload: string | null }>(
    'SELECT seq, payload FROM journal WHERE run_id = ? AND seq IN (SELECT value FROM json_each(?))',
  );
  const marker = JSON.stringify(OUTPUT_SEQ);

  return {
    refFor(runId, fresh) {
      return (output) => {
        const seq = fresh?.get(output);
        if (seq !== undefined) return seq;
        const at = known.get(output);
        return at !== undefined && at.runId === runId ? at.seq : undefined;
      };
    },
    journaled(journal, seqs) {
      let fresh: Map<object, number> | null = null;
      journal.forEach((entry, i) => {
        if (typeof entry.output === 'object' && entry.output !== null) (fresh ??= new Map()).set(entry.output, seqs[i]!);
      });
      return fresh;
    },
    keep(runId, fresh) {
      if (fresh) for (const [output, seq] of fresh) known.set(output, { runId, seq });
    },
    resolve(runId, snapshot, text) {
      if (!text.includes(marker)) return snapshot;
      const context = isFields(snapshot) ? snapshot['context'] : undefined;
      const steps = isFields(context) ? context['steps'] : undefined;
      if (!isFields(steps)) return snapshot;
      const wanted = new Map<number, string[]>();
      for (const id of Object.keys(steps)) {
        const result = steps[id];
        const seq = isFields(result) ? result[OUTPUT_SEQ] : undefined;
        if (typeof seq === 'number') wanted.set(seq, [...(wanted.get(seq) ?? []), id]);
      }
      if (wanted.size === 0) return snapshot;
      for (const row of payloads.all(runId, JSON.stringify([...wanted.keys()]))) {
        const output = (JSON.parse(row.payload ?? 'null') as Fields | null)?.['output'];
        if (typeof output === 'object' && output !== null) known.set(output, { runId, seq: row.seq });
        for (const id of wanted.get(row.seq) ?? []) steps[id] = withOutput(steps[id] as Fields, output);
        wanted.delete(row.seq);
      }
      if (wanted.size > 0) throw new Error(`run ${runId}: its snapshot refers to journal entries ${[...wanted.keys()].join(', ')}, which are missing`);
      return snapshot;
    },
  };
}

/** The step result with `output` where it held the reference, its keys in their order. */
function withOutput(result: Fields, output: unknown): Fields {
  const fixed: Fields = {};
  for (const key of Object.keys(result)) {
    if (key === OUTPUT_SEQ) fixed['output'] = output;
    else fixed[key] = result[key];
  }
  return fixed;
}
