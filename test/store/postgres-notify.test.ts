/**
 * PostgreSQL LISTEN/NOTIFY: a statement that leaves a run claimable (running,
 * unleased) notifies the schema's channel with the run's id; a leased write
 * does not; a worker polling once an hour still claims a run the moment
 * another store makes it claimable; closing the store closes its listening
 * connection.
 */
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/engine/clock.js';
import { work } from '../../src/engine/worker.js';
import { runnableChannel } from '../../src/store/postgres-notify.js';
import { createPostgresStore } from '../../src/store/postgres.js';
import { makeRun, patch } from '../../src/testing/store-fixtures.js';
import { PG_URL as URL, testSchemas } from '../pg.js';

const schemas = testSchemas('notify');
const admin = new pg.Pool({ connectionString: URL, max: 1 });
afterAll(() => admin.end());

/** Collects the payloads notified on a channel, and resolves when `count` have come. */
async function listenTo(channel: string) {
  const client = new pg.Client({ connectionString: URL });
  await client.connect();
  const payloads: string[] = [];
  let waiting: { count: number; done: () => void } | null = null;
  client.on('notification', (message) => {
    payloads.push(message.payload ?? '');
    if (waiting && payloads.length >= waiting.count) waiting.done();
  });
  await client.query(`LISTEN ${channel}`);
  return {
    payloads,
    until: (count: number) => new Promise<void>((done) => (payloads.length >= count ? done() : (waiting = { count, done }))),
    close: () => client.end(),
  };
}

describe('PostgreSQL store: runs left claimable are announced', () => {
  it('notifies the run id on create, unleased commit and release of a running run, not on leased writes', async () => {
    const schema = schemas.name();
    const store = createPostgresStore({ url: URL, schema, pool: 2 });
    await store.migrate();
    const heard = await listenTo(runnableChannel(schema));
    try {
      const leased = makeRun({ lease: { owner: 'me', until: 9_000 } });
      await store.create(leased, []); // leased: not claimable by others
      await store.commit(leased.id, patch(), [], 0, 'me'); // still leased
      const waiting = makeRun({ status: 'waiting' });
      await store.create(waiting, []); // not runnable
      const free = makeRun();
      await store.create(free, []); // claimable: 1
      await store.commit(waiting.id, patch({ status: 'running' }), []); // an unleased commit makes it runnable: 2
      await store.release(leased.id, 'me'); // released while running: 3
      await heard.until(3);
      expect(heard.payloads).toEqual([free.id, waiting.id, leased.id]);
    } finally {
      await heard.close();
      await store.close();
      await schemas.drop(schema);
    }
  });

  it('a claim that releases runs notifies those it leaves running (runnable), not those done', async () => {
    const schema = schemas.name();
    const store = createPostgresStore({ url: URL, schema, pool: 2 });
    await store.migrate();
    const heard = await listenTo(runnableChannel(schema));
    try {
      const running = makeRun({ lease: { owner: 'me', until: 9_000 } });
      const done = makeRun({ status: 'done', lease: { owner: 'me', until: 9_000 } });
      for (const run of [running, done]) await store.create(run, []);
      await store.claim({ owner: 'me', now: 1_000, leaseMs: 100, limit: 1, release: [done.id, running.id] });
      const marker = makeRun();
      await store.create(marker, []); // claimable: notified after the claim's
      await heard.until(2);
      expect(heard.payloads).toEqual([running.id, marker.id]);
    } finally {
      await heard.close();
      await store.close();
      await schemas.drop(schema);
    }
  });

  it('wakes an idle worker polling once an hour when another store makes a run claimable, and closes its listener', async () => {
    const schema = schemas.name();
    const workerStore = createPostgresStore({ url: URL, schema, pool: 1 });
    const producer = createPostgresStore({ url: URL, schema, pool: 1 });
    await producer.migrate();
    const stop = new AbortController();
    let claims = 0;
    let firstClaim: () => void = () => {};
    const idle = new Promise<void>((done) => (firstClaim = done));
    const driven: string[] = [];
    let drove: () => void = () => {};
    const droveOne = new Promise<void>((done) => (drove = done));
    try {
      const working = work(
        {
          store: {
            ...workerStore,
            claim: async (options) => {
              const runs = await workerStore.claim(options);
              if (++claims === 1) firstClaim();
              return runs;
            },
          },
          clock: new ManualClock(),
          drive: async (record, { lease }) => {
            const done = await workerStore.commit(record.id, patch({ status: 'done' }), [], record.revision, lease.owner);
            driven.push(record.id);
            drove();
            return { status: done.status, updatedAt: done.updatedAt };
          },
        },
        { owner: 'w-notify', pollMs: 3_600_000, signal: stop.signal },
      );
      await idle; // the first claim found nothing: the worker sleeps for an hour unless woken
      const run = makeRun();
      await producer.create(run, []);
      await droveOne;
      expect(driven).toEqual([run.id]);
      stop.abort();
      expect(await working).toMatchObject({ claimed: 1, errors: 0 });
      await workerStore.close();
      const { rows } = await admin.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE query = $1`, [`LISTEN ${runnableChannel(schema)}`]);
      expect(rows[0]).toEqual({ n: 0 });
    } finally {
      stop.abort();
      await workerStore.close();
      await producer.close();
      await schemas.drop(schema);
    }
  });
});
