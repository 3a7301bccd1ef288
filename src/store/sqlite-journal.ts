/**
 * Appending journal entries on SQLite in one statement per commit: the
 * entries as one multi-row VALUES list, numbered from one past the run's last
 * `seq`, which the statement reads itself (inside the write transaction), and
 * returns the numbers it gave. Statements are prepared once per entry count, up
 * to {@link MAX_ROWS}; longer lists go in chunks of that many.
 */
import type Database from 'better-sqlite3';
import type { NewJournalEntry } from '../run/types.js';
import { JOURNAL_COLUMNS, payloadText } from './rows.js';

const MAX_ROWS = 8;
/** Values bound per entry: step, visit, attempt, event, at, payload. */
const PER_ROW = 6;

function appendSql(rows: number): string {
  // Parameters in order: the run id twice, then each row's values.
  const row = Array.from({ length: PER_ROW }, () => '?').join(', ');
  const values = Array.from({ length: rows }, (_, r) => `(${r + 1}, ${row})`).join(', ');
  return `INSERT INTO journal (${JOURNAL_COLUMNS.join(', ')})
    SELECT ?, base.last + v.column1, v.column2, v.column3, v.column4, v.column5, v.column6, v.column7
    FROM (SELECT COALESCE(MAX(seq), 0) AS last FROM journal WHERE run_id = ?) AS base, (VALUES ${values}) AS v
    RETURNING seq`;
}

/** Returns `append(runId, entries)`, which must run inside a write transaction and gives each entry's `seq`, in order. */
export function journalAppender(db: Database.Database): (runId: string, journal: readonly NewJournalEntry[]) => number[] {
  const statements: Array<Database.Statement<unknown[], number>> = [];
  const statement = (rows: number) => (statements[rows] ??= db.prepare<unknown[], number>(appendSql(rows)).pluck());
  return (runId, journal) => {
    const seqs: number[] = [];
    for (let from = 0; from < journal.length; from += MAX_ROWS) {
      const chunk = journal.slice(from, from + MAX_ROWS);
      const params: unknown[] = [runId, runId];
      for (const entry of chunk) {
        params.push(entry.step ?? null, entry.visit, entry.attempt, entry.event, entry.at, payloadText(entry));
      }
      // The chunk's rows are numbered from one past the last seq, in order (RETURNING gives them in no set order).
      const first = Math.min(...statement(chunk.length).all(params));
      for (let i = 0; i < chunk.length; i++) seqs.push(first + i);
    }
    return seqs;
  };
}
