/**
 * The runnable condition (what `claim` hands out) is written once in
 * src/store/runnable.ts: the JS predicate the memory store uses and the SQL
 * fragment SQLite and PostgreSQL use must pick exactly the same runs, on every
 * combination of status, timer and lease around `now`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { runStatuses } from '../../src/run/types.js';
import { isRunnable, runnableSql } from '../../src/store/runnable.js';
import { PG_URL, testSchemas } from '../pg.js';

const now = 10_000;
const times = [null, now - 1, now, now + 1];
const cases = runStatuses.flatMap((status) =>
  times.flatMap((wakeAt) => times.map((leaseUntil) => ({ id: `${status}|${wakeAt}|${leaseUntil}`, status, wakeAt, leaseUntil }))),
);
const expected = cases
  .filter((c) => isRunnable({ status: c.status, wakeAt: c.wakeAt, lease: c.leaseUntil === null ? null : { owner: 'o', until: c.leaseUntil } }, now))
  .map((c) => c.id)
  .sort();

const schemas = testSchemas('runnable');

describe('the runnable condition, defined once', () => {
  it('the JS predicate: running with no or a due timer, waiting with a due timer, lease free or expired', () => {
    expect(expected).toEqual(
      [
        'running|null|null', 'running|null|9999', 'running|9999|null', 'running|9999|9999', 'running|10000|null', 'running|10000|9999',
        'waiting|9999|null', 'waiting|9999|9999', 'waiting|10000|null', 'waiting|10000|9999',
      ].sort(),
    );
  });

  it('SQLite selects the same runs as the predicate', () => {
    const db = new Database(':memory:');
    try {
      db.exec('CREATE TABLE runs (id TEXT, status TEXT, wake_at INTEGER, lease_owner TEXT, lease_until INTEGER)');
      const insert = db.prepare('INSERT INTO runs VALUES (?, ?, ?, ?, ?)');
      for (const c of cases) insert.run(c.id, c.status, c.wakeAt, c.leaseUntil === null ? null : 'o', c.leaseUntil);
      const ids = db.prepare(`SELECT id FROM runs WHERE ${runnableSql('@now')}`).pluck().all({ now }) as string[];
      expect(ids.sort()).toEqual(expected);
    } finally {
      db.close();
    }
  });

  const pool = new pg.Pool({ connectionString: PG_URL, max: 1 });
  afterAll(() => pool.end());

  it('PostgreSQL selects the same runs as the predicate', async () => {
    const schema = schemas.name();
    try {
      await pool.query(`CREATE SCHEMA "${schema}"`);
      await pool.query(`CREATE TABLE "${schema}".runs (id TEXT, status TEXT, wake_at BIGINT, lease_owner TEXT, lease_until BIGINT)`);
      for (const c of cases) {
        await pool.query(`INSERT INTO "${schema}".runs VALUES ($1, $2, $3, $4, $5)`, [c.id, c.status, c.wakeAt, c.leaseUntil === null ? null : 'o', c.leaseUntil]);
      }
      const { rows } = await pool.query<{ id: string }>(`SELECT id FROM "${schema}".runs WHERE ${runnableSql('$1')}`, [now]);
      expect(rows.map((r) => r.id).sort()).toEqual(expected);
    } finally {
      await schemas.drop(schema);
    }
  });

  it('no store writes the condition itself, and no store imports the engine (crash hooks are injected)', () => {
    const dir = join(import.meta.dirname, '../../src/store');
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts') && f !== 'runnable.ts')) {
      const text = readFileSync(join(dir, file), 'utf8');
      expect(text, file).not.toMatch(/wake_at <=|wakeAt <=/);
      expect(text, file).not.toMatch(/from '\.\.\/engine\//);
    }
  });
});
