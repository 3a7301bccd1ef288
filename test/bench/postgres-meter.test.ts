import { afterAll, describe, expect, it } from 'vitest';
import { createConnectionMeter } from '../../src/bench/postgres-meter.js';
import { createPostgresStore } from '../../src/store/postgres.js';
import { makeRun } from '../../src/testing/store-fixtures.js';
import { PG_URL, testSchemas } from '../pg.js';

const schemas = testSchemas('meter');

describe('bench connection meter', () => {
  const meter = createConnectionMeter();
  const store = createPostgresStore({ url: PG_URL, schema: schemas.name(), pool: 1, onConnect: meter.attach });
  afterAll(() => store.close());

  it('counts the statements the store sends, by name, and the bytes both ways, from a reset', async () => {
    await store.get('nothing'); // connects and migrates
    meter.reset();
    const run = makeRun();
    await store.create(run, []);
    await store.get(run.id);
    await store.get(run.id);
    const totals = meter.totals();
    expect(totals.statements).toEqual({ create: 1, get: 2 });
    // The run row went out once and came back three times.
    const rowBytes = JSON.stringify(run.definition).length;
    expect(totals.bytesSent).toBeGreaterThan(rowBytes);
    expect(totals.bytesReceived).toBeGreaterThan(3 * rowBytes);
  });
});
