/** Two PostgreSQL stores on one fresh schema, as two processes sharing a database: for tests where one store acts behind the other's back. */
import { createPostgresStore } from '../../src/store/postgres.js';
import type { Store } from '../../src/store/types.js';
import { PG_URL, type TestSchemas } from '../pg.js';

/** Runs `body` with a `first` and an `other` store (pool of one each) on a new schema, then closes both and drops it. */
export async function withTwoStores(schemas: TestSchemas, body: (first: Store, other: Store) => Promise<void>): Promise<void> {
  const schema = schemas.name();
  const first = createPostgresStore({ url: PG_URL, schema, pool: 1 });
  const other = createPostgresStore({ url: PG_URL, schema, pool: 1 });
  try {
    await body(first, other);
  } finally {
    await first.close();
    await other.close();
    await schemas.drop(schema);
  }
}
