/**
 * A database written before migration 2 (definition in every runs row, the
 * journal a WITHOUT ROWID table) opens with the current SQLite store: its runs
 * read back the same, share one stored definition, and resume to the end.
 */
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/engine/clock.js';
import { createEngine } from '../../src/engine/engine.js';
import { createMemoryStore } from '../../src/store/memory.js';
import { MIGRATIONS_TABLE, sqliteMigrations } from '../../src/store/migrations.js';
import { journalValues, runValues, RUN_COLUMNS, JOURNAL_COLUMNS } from '../../src/store/rows.js';
import type { JournalEntry, RunRecord } from '../../src/run/types.js';
import { MODEL_TIMEOUT_MS } from '../budgets.js';
import { harness, inputOf, load, type Harness } from '../engine/helpers.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** A file with the schema of version 1 holding `runs` as that version wrote them. */
function writeVersion1(path: string, runs: ReadonlyArray<{ run: RunRecord; journal: readonly JournalEntry[] }>): void {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.exec(`CREATE TABLE ${MIGRATIONS_TABLE} (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)`);
  db.exec(sqliteMigrations[0]!);
  db.prepare(`INSERT INTO ${MIGRATIONS_TABLE} VALUES (1, 0)`).run();
  const insertRun = db.prepare(`INSERT INTO runs (${RUN_COLUMNS.join(', ')}) VALUES (${RUN_COLUMNS.map(() => '?').join(', ')})`);
  const insertEntry = db.prepare(`INSERT INTO journal (${JOURNAL_COLUMNS.join(', ')}) VALUES (${JOURNAL_COLUMNS.map(() => '?').join(', ')})`);
  for (const { run, journal } of runs) {
    insertRun.run(runValues(run));
    for (const entry of journal) insertEntry.run(journalValues(run.id, entry.seq, entry));
  }
  db.close();
}

describe('SQLite migration 2', () => {
  it('opens a version-1 database: runs and journals read back the same, definitions stored once, a waiting run resumes', async () => {
    h = await harness();
    const memory = createMemoryStore();
    const before = createEngine({
      store: memory,
      model: { baseURL: h.emu.url, apiKey: 'x', maxRetries: 0, timeoutMs: MODEL_TIMEOUT_MS },
      clock: new ManualClock({ autoAdvance: true }),
    });
    const definition = await load('invoice-approval.yaml');
    const waiting = await before.start(definition, { input: inputOf('invoice-approval.yaml') });
    expect(waiting.status).toBe('waiting');
    const run = (await memory.get(waiting.runId))!;
    const journal = await memory.journal(run.id);
    const twin = { ...run, id: `${run.id}-twin`, createdAt: run.createdAt + 1 };
    writeVersion1(h.dbPath, [{ run, journal }, { run: twin, journal: journal.map((e) => ({ ...e, runId: twin.id })) }]);

    const engine = h.engine();
    expect(await engine.store.get(run.id)).toEqual(run);
    expect(await engine.store.get(twin.id)).toEqual(twin);
    expect(await engine.store.journal(run.id)).toEqual(journal);
    expect((await engine.store.list()).map((r) => r.id).sort()).toEqual([run.id, twin.id].sort());

    const db = new Database(h.dbPath, { readonly: true });
    expect(db.prepare(`SELECT version FROM ${MIGRATIONS_TABLE} ORDER BY version`).pluck().all()).toEqual([1, 2]);
    expect(db.prepare('SELECT count(*) FROM definitions').pluck().get()).toBe(1);
    db.close();

    const done = await engine.send(run.id, 'APPROVE');
    expect(done.status).toBe('done');
    const events = (await engine.store.journal(run.id)).map((e) => [e.seq, e.event]);
    expect(events.slice(0, journal.length)).toEqual(journal.map((e) => [e.seq, e.event]));
    expect(events.at(-1)).toEqual([events.length, 'finished']);
  });
});
