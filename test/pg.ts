/**
 * PostgreSQL for the tests: the real server (127.0.0.1:5432, database `test`),
 * one fresh schema per store. Names are `stepwise_test_<run>_<label>_<random>`,
 * where `<run>` is this vitest run's token (test/global-setup.ts provides it),
 * so the global teardown can find every schema this run left behind without
 * touching those of test runs going on beside it.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, inject } from 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A random token naming this test run's PostgreSQL schemas. */
    stepwiseTestRun: string;
  }
}

export const PG_URL = process.env['STEPWISE_TEST_POSTGRES'] ?? 'postgres://postgres@127.0.0.1:5432/test';

/** The prefix of every schema a test run `run` creates. */
export const runSchemaPrefix = (run: string): string => `stepwise_test_${run}_`;

/** This run's token; a process-local one when the global set-up did not run (never under `vitest run`). */
const thisRun = (): string => inject('stepwiseTestRun') ?? `p${process.pid}`;

/** Drops schemas (and everything in them); ignores ones already gone. */
export async function dropSchemas(names: readonly string[], url = PG_URL): Promise<void> {
  if (names.length === 0) return;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const name of names) await client.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
  } finally {
    await client.end();
  }
}

export interface TestSchemas {
  /** A fresh schema name; the schema itself is created by the store that first uses it. */
  name(): string;
  /** Drops a schema now (it is dropped after the file's tests otherwise). */
  drop(name: string): Promise<void>;
}

/**
 * Schema names for one test file, labelled `label` (lower-case letters). Every
 * name handed out is dropped after the file's tests, whether they passed,
 * failed or timed out; call in a test file's top level.
 *
 * @example
 * const schemas = testSchemas('crash');
 * const store = createPostgresStore({ url: PG_URL, schema: schemas.name() });
 */
export function testSchemas(label: string): TestSchemas {
  const created = new Set<string>();
  afterAll(() => dropSchemas([...created]));
  return {
    name() {
      const name = `${runSchemaPrefix(thisRun())}${label}_${randomBytes(5).toString('hex')}`;
      created.add(name);
      return name;
    },
    async drop(name) {
      await dropSchemas([name]);
      created.delete(name);
    },
  };
}

/** Schemas of run `run` still on the server. */
export async function leftSchemas(run: string, url = PG_URL): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string }>('SELECT nspname AS name FROM pg_namespace WHERE starts_with(nspname, $1) ORDER BY 1', [runSchemaPrefix(run)]);
    return rows.map((r) => r.name);
  } finally {
    await client.end();
  }
}
