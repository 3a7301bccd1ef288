/** `openStore` and `parseStoreSpec`: every accepted form, the default path, and the usage error. */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { StepwiseError } from '../../src/errors.js';
import { openStore, parseStoreSpec } from '../../src/store/open.js';
import { PG_URL, testSchemas } from '../pg.js';

const schemas = testSchemas('open');
const cwd = mkdtempSync(join(tmpdir(), 'stepwise-open-'));
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

describe('parseStoreSpec', () => {
  it('accepts every documented form', () => {
    expect(parseStoreSpec('memory')).toEqual({ kind: 'memory' });
    const fallback = { kind: 'sqlite', path: join(cwd, '.stepwise/stepwise.db') };
    expect(parseStoreSpec(undefined, { cwd })).toEqual(fallback);
    expect(parseStoreSpec('', { cwd })).toEqual(fallback);
    expect(parseStoreSpec('sqlite', { cwd })).toEqual(fallback);
    expect(parseStoreSpec('sqlite:data/x.db', { cwd })).toEqual({ kind: 'sqlite', path: join(cwd, 'data/x.db') });
    expect(parseStoreSpec('sqlite:/abs/x.db', { cwd })).toEqual({ kind: 'sqlite', path: '/abs/x.db' });
    expect(parseStoreSpec('postgres://u@h:5432/db')).toEqual({ kind: 'postgres', url: 'postgres://u@h:5432/db' });
    expect(parseStoreSpec('postgresql://u@h/db')).toEqual({ kind: 'postgres', url: 'postgresql://u@h/db' });
    expect(parseStoreSpec('postgres:postgres://u@h/db?schema=s')).toEqual({ kind: 'postgres', url: 'postgres://u@h/db?schema=s' });
  });

  it('rejects anything else with a usage error naming the accepted forms', () => {
    for (const spec of ['mysql://x', 'redis', 'postgres:']) {
      let error: unknown;
      try {
        parseStoreSpec(spec);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(StepwiseError);
      expect((error as StepwiseError).code).toBe('usage');
      expect((error as Error).message).toMatch(/memory.*sqlite:<path>.*postgres/);
    }
  });
});

describe('openStore', () => {
  it('opens memory and the default SQLite file, migrated', async () => {
    const memory = await openStore('memory');
    expect(memory.kind).toBe('memory');
    await memory.close();
    const sqlite = await openStore('sqlite', { cwd });
    expect(sqlite.kind).toBe('sqlite');
    expect(existsSync(join(cwd, '.stepwise/stepwise.db'))).toBe(true);
    expect(await sqlite.list()).toEqual([]);
    await sqlite.close();
  });

  it('opens PostgreSQL from a bare URL with a schema parameter', async () => {
    const schema = schemas.name();
    const url = PG_URL;
    const store = await openStore(`${url}?schema=${schema}`);
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      expect(store.kind).toBe('postgres');
      const { rows } = await admin.query('SELECT version FROM "' + schema + '".stepwise_migrations');
      expect(rows).toEqual([{ version: 1 }, { version: 2 }]);
    } finally {
      await store.close();
      await admin.end();
      await schemas.drop(schema);
    }
  });

  it('rejects an unknown spec', async () => {
    await expect(openStore('mongo://x')).rejects.toMatchObject({ code: 'usage' });
  });
});
