/**
 * PostgreSQL throughput with model time zero: N workers, each its own engine
 * with its own one-connection pool (`engine.work()` driving 4 runs at once),
 * work through the scenarios' tool-only runs in a fresh schema; beside them,
 * the raw rate of one-statement transactions (`BEGIN; UPDATE; COMMIT`) over
 * the same number of connections to the same server, measured just before and
 * just after the workers ran (the mean of the two: a shared machine's load
 * drifts, and bracketing does not favour either side). Claim latency: idle
 * workers polling at their default interval and woken by the store's
 * LISTEN/NOTIFY, runs made runnable one by one, time from the start of a
 * run's creation to the claim that leases it.
 * The schema (`schema` in the result) is dropped afterwards; an unreachable
 * server skips the arm.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { loadDefinitionFromObject } from '../definition/load.js';
import { createEngine, type Engine } from '../engine/engine.js';
import { createPostgresStore } from '../store/postgres.js';
import type { Store } from '../store/types.js';
import type { AnyTool } from '../tools/define.js';
import { redactSecrets } from '../util/redact.js';
import { toDefinition } from './definition.js';
import { cachedTools } from './overhead.js';
import type { Scenario } from './scenarios.js';
import { summarize, type Summary } from './stats.js';

export const DEFAULT_BENCH_POSTGRES = 'postgres://postgres@127.0.0.1:5432/test';
/** Runs each worker drives at once (the `engine.work()` default). */
const WORKER_CONCURRENCY = 4;
/** The `engine.work()` default poll interval, used for the claim latency. */
const POLL_MS = 250;

export interface PostgresWorkers {
  readonly workers: number;
  /** Connections on each side: one pool of one per worker; the raw loop opens as many. */
  readonly connections: number;
  readonly runs: number;
  readonly steps: number;
  readonly seconds: number;
  readonly stepsPerSecond: number;
  /** One-statement transactions per second over the same connections: the mean of {@link rawBeforeAfter}. */
  readonly rawTransactionsPerSecond: number;
  /** The raw rate measured just before and just after the workers ran. */
  readonly rawBeforeAfter: readonly [number, number];
  /**
   * CPU time of this (one) process per step while the workers ran, in ms, and as a share of the wall time:
   * near 1 (or more, with helper threads) the workers are bound by the engine's CPU, not by the server.
   */
  readonly cpuMsPerStep: number;
  readonly cpuShare: number;
  /** stepsPerSecond / rawTransactionsPerSecond. */
  readonly ratio: number;
  /**
   * Store calls per step while the workers ran: a `commit` is one statement (commits of several runs waiting for the
   * connection share one, group commit); `readShared` a read (breaker states are cached while closed and clean); `release` one statement.
   */
  readonly storeCallsPerStep: Record<string, number>;
  /** Milliseconds from the start of a run's creation to its claim (idle workers polling every 250 ms, woken by NOTIFY). */
  readonly claimLatencyMs: Summary | null;
  readonly claimLatencyP99Ms: number | null;
}

export type PostgresBench =
  | { readonly skipped: string }
  | { readonly skipped: null; readonly schema: string; readonly workerConcurrency: number; readonly pollMs: number; readonly byWorkers: readonly PostgresWorkers[] };

const round1 = (v: number) => Math.round(v * 10) / 10;

function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? null;
}

async function withClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

/** Records when each run was first claimed, and counts the store calls that reach the server. */
function instrumented(store: Store, claimedAt: Map<string, number>, calls: Record<string, number>): Store {
  const count = (name: string) => void (calls[name] = (calls[name] ?? 0) + 1);
  return {
    ...store,
    async claim(options) {
      count('claim');
      const runs = await store.claim(options);
      const at = performance.now();
      for (const run of runs) if (!claimedAt.has(run.id)) claimedAt.set(run.id, at);
      return runs;
    },
    commit: (...args) => (count('commit'), store.commit(...args)),
    release: (...args) => (count('release'), store.release(...args)),
    renew: (...args) => (count('renew'), store.renew(...args)),
    get: (...args) => (count('get'), store.get(...args)),
    list: (...args) => (count('list'), store.list(...args)),
    readShared: (key) => (count('readShared'), store.readShared(key)),
    updateShared: (key, update) => (count('updateShared'), store.updateShared(key, update)),
  };
}

/** `connections` clients each committing `perConnection` one-statement transactions on their own row. */
async function rawRate(url: string, schema: string, connections: number, perConnection: number): Promise<number> {
  await withClient(url, async (c) => {
    await c.query(`CREATE TABLE IF NOT EXISTS "${schema}".raw (id INTEGER PRIMARY KEY, n BIGINT NOT NULL)`);
    await c.query(`INSERT INTO "${schema}".raw (id, n) SELECT g, 0 FROM generate_series(1, $1) g ON CONFLICT (id) DO NOTHING`, [connections]);
  });
  const clients = await Promise.all(Array.from({ length: connections }, async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    return client;
  }));
  try {
    const loop = async (client: pg.Client, id: number, count: number) => {
      for (let i = 0; i < count; i++) {
        await client.query('BEGIN');
        await client.query(`UPDATE "${schema}".raw SET n = n + 1 WHERE id = $1`, [id]);
        await client.query('COMMIT');
      }
    };
    await Promise.all(clients.map((c, i) => loop(c, i + 1, Math.min(20, perConnection)))); // warm-up
    const started = performance.now();
    await Promise.all(clients.map((c, i) => loop(c, i + 1, perConnection)));
    return Math.round((connections * perConnection) / ((performance.now() - started) / 1000));
  } finally {
    await Promise.all(clients.map((c) => c.end()));
  }
}

interface Fleet {
  readonly engines: Engine[];
  readonly claimedAt: Map<string, number>;
  readonly calls: Record<string, number>;
  close(): Promise<void>;
}

/** One tool per name for the workers (runs read from the store bring no tools): the results are fixed, as in the other overhead arms. */
function toolsOf(scenarios: readonly Scenario[]): AnyTool[] {
  const byName = new Map<string, AnyTool>();
  for (const s of scenarios) for (const tool of cachedTools(s)) if (!byName.has(tool.name)) byName.set(tool.name, tool);
  return [...byName.values()];
}

function fleet(url: string, schema: string, workers: number, tools: readonly AnyTool[]): Fleet {
  const claimedAt = new Map<string, number>();
  const calls: Record<string, number> = {};
  const stores = Array.from({ length: workers }, () => createPostgresStore({ url, schema, pool: 1 }));
  const engines = stores.map((store) => createEngine({ store: instrumented(store, claimedAt, calls), tools, model: { baseURL: 'http://127.0.0.1:9', apiKey: 'none' } }));
  return { engines, claimedAt, calls, close: async () => void (await Promise.all(stores.map((s) => s.close()))) };
}

type Loaded = ReturnType<typeof loadDefinitionFromObject>;

async function throughputWith(url: string, schema: string, workers: number, tools: readonly AnyTool[], loaded: readonly Loaded[], steps: number, tag: string) {
  const producer = createPostgresStore({ url, schema, pool: 2 });
  const starter = createEngine({ store: producer, model: { baseURL: 'http://127.0.0.1:9', apiKey: 'none' } });
  const ids = await Promise.all(loaded.map(async (definition, i) => (await starter.start(definition, { runId: `${tag}-${i}`, input: { document: '' }, detach: true })).runId));
  const team = fleet(url, schema, workers, tools);
  try {
    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    const summaries = await Promise.all(team.engines.map((e) => e.work({ concurrency: WORKER_CONCURRENCY, exitWhenIdle: true, pollMs: 20 })));
    const cpu = process.cpuUsage(cpuBefore);
    const seconds = (performance.now() - started) / 1000;
    const errors = summaries.reduce((a, s) => a + s.errors, 0);
    const views = await Promise.all(ids.map((id) => starter.get(id)));
    const notDone = views.filter((v) => v.status !== 'done');
    if (errors > 0 || notDone.length > 0) {
      const why = notDone.slice(0, 3).map((v) => `${v.runId} ${v.status}${v.failure ? `: ${v.failure.message}` : ''}`).join('; ');
      throw new Error(`PostgreSQL bench: ${notDone.length} runs not done (${why}), ${errors} worker errors`);
    }
    return { runs: ids.length, steps, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, calls: team.calls };
  } finally {
    await team.close();
    await producer.close();
  }
}

async function claimLatency(url: string, schema: string, workers: number, tools: readonly AnyTool[], definition: Loaded, samples: number): Promise<number[]> {
  const producer = createPostgresStore({ url, schema, pool: 1 });
  const starter = createEngine({ store: producer, model: { baseURL: 'http://127.0.0.1:9', apiKey: 'none' } });
  const team = fleet(url, schema, workers, tools);
  const stop = new AbortController();
  const working = team.engines.map((e) => e.work({ concurrency: WORKER_CONCURRENCY, pollMs: POLL_MS, signal: stop.signal }));
  const createdAt = new Map<string, number>();
  try {
    // Let the workers find nothing and go to sleep first, then make runs runnable at spread-out moments.
    await new Promise((done) => setTimeout(done, POLL_MS));
    for (let i = 0; i < samples; i++) {
      await new Promise((done) => setTimeout(done, 100 + ((i * 97) % 200)));
      const at = performance.now();
      const view = await starter.start(definition, { input: { document: '' }, detach: true });
      createdAt.set(view.runId, at);
    }
    const deadline = performance.now() + 10_000;
    while ([...createdAt.keys()].some((id) => !team.claimedAt.has(id)) && performance.now() < deadline) await new Promise((done) => setTimeout(done, 20));
  } finally {
    stop.abort();
    await Promise.all(working);
    await team.close();
    await producer.close();
  }
  return [...createdAt].flatMap(([id, at]) => {
    const claimed = team.claimedAt.get(id);
    return claimed === undefined ? [] : [Math.max(0, claimed - at)];
  });
}

/**
 * The PostgreSQL arm at each worker count, in a fresh schema dropped afterwards.
 * @example
 * const pg = await postgresThroughput(scenarios, { workers: [1, 2, 4] });
 * if (pg.skipped === null) pg.byWorkers[0].ratio; // e.g. 0.6
 */
export async function postgresThroughput(
  scenarios: readonly Scenario[],
  options: { readonly url?: string; readonly workers?: readonly number[]; readonly claimSamples?: number } = {},
): Promise<PostgresBench> {
  const url = options.url ?? DEFAULT_BENCH_POSTGRES;
  const schema = `stepwise_bench_${process.pid}_${randomBytes(4).toString('hex')}`;
  try {
    await withClient(url, (c) => c.query(`CREATE SCHEMA "${schema}"`));
  } catch (cause) {
    return { skipped: `PostgreSQL at ${redactSecrets(url)} not reachable: ${redactSecrets(cause instanceof Error ? cause.message : String(cause))}` };
  }
  try {
    const loaded = scenarios.map((s) => loadDefinitionFromObject(toDefinition(s, { toolOnly: true }), cachedTools(s), s.id));
    const tools = toolsOf(scenarios);
    const steps = scenarios.reduce((a, s) => a + s.steps.length, 0);
    // Warm-up: migrations, JIT, prepared plans.
    await throughputWith(url, schema, 1, tools, loaded.slice(0, Math.max(1, Math.ceil(loaded.length / 10))), 0, 'warm');
    const byWorkers: PostgresWorkers[] = [];
    for (const workers of options.workers ?? [1, 2, 4]) {
      const perConnection = Math.max(20, Math.ceil(steps / workers));
      const rawBefore = await rawRate(url, schema, workers, perConnection);
      const run = await throughputWith(url, schema, workers, tools, loaded, steps, `w${workers}`);
      const rawAfter = await rawRate(url, schema, workers, perConnection);
      const raw = Math.round((rawBefore + rawAfter) / 2);
      const latencies = loaded[0] ? await claimLatency(url, schema, workers, tools, loaded[0], options.claimSamples ?? 20) : [];
      const stepsPerSecond = Math.round(run.steps / run.seconds);
      byWorkers.push({
        workers,
        connections: workers,
        runs: run.runs,
        steps: run.steps,
        seconds: Math.round(run.seconds * 100) / 100,
        stepsPerSecond,
        rawTransactionsPerSecond: raw,
        rawBeforeAfter: [rawBefore, rawAfter],
        cpuMsPerStep: run.steps > 0 ? Math.round((run.cpuSeconds / run.steps) * 1e5) / 100 : 0,
        cpuShare: Math.round((run.cpuSeconds / run.seconds) * 100) / 100,
        storeCallsPerStep: Object.fromEntries(Object.entries(run.calls).map(([k, v]) => [k, Math.round((v / run.steps) * 100) / 100])),
        ratio: Math.round((stepsPerSecond / raw) * 100) / 100,
        claimLatencyMs: summarize(latencies.map(round1)),
        claimLatencyP99Ms: (() => {
          const p = percentile(latencies, 99);
          return p === null ? null : round1(p);
        })(),
      });
    }
    return { skipped: null, schema, workerConcurrency: WORKER_CONCURRENCY, pollMs: POLL_MS, byWorkers };
  } finally {
    await withClient(url, (c) => c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)).catch(() => {});
  }
}
