/**
 * PostgreSQL throughput with model time zero: N workers, each its own process
 * (as `stepwise worker` runs: its own engine, a one-connection pool,
 * `engine.work()` driving 4 runs at once), work through the scenarios'
 * tool-only runs in a fresh schema; beside them, the raw rate of
 * one-statement transactions (`BEGIN; UPDATE; COMMIT`) from as many processes
 * with one connection each, to the same server, measured just before and just
 * after the workers ran (the mean of the two: a shared machine's load drifts,
 * and bracketing does not favour either side); the same for the `UPDATE` alone
 * in autocommit (one round trip per transaction, as each store commit is: the
 * stricter baseline, `autocommitRatio`). Both sides report the CPU of
 * their processes and of their server backends per step or transaction, which
 * is what decides the ratio when the processes and the server share few cores.
 * Claim latency: idle workers polling at their default interval and woken by
 * the store's LISTEN/NOTIFY, runs made runnable one by one, time from the
 * start of a run's creation to the claim that leases it.
 * The schema (`schema` in the result) is dropped afterwards; an unreachable
 * server skips the arm.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDefinitionFromObject } from '../definition/load.js';
import { createEngine } from '../engine/engine.js';
import { createPostgresStore } from '../store/postgres.js';
import { redactSecrets } from '../util/redact.js';
import { toDefinition } from './definition.js';
import { cachedTools } from './overhead.js';
import { dropSchema, epochMs, withClient, type ProcessReport } from './postgres-fleet.js';
import { startFleet } from './postgres-spawn.js';
import type { Scenario } from './scenarios.js';
import { summarize, type Summary } from './stats.js';

export const DEFAULT_BENCH_POSTGRES = 'postgres://postgres@127.0.0.1:5432/test';
/** Scenarios the arm runs per worker count (the first ones of the bench's). */
export const POSTGRES_SCENARIOS = 60;
/** Runs each worker drives at once (the `engine.work()` default). */
const WORKER_CONCURRENCY = 4;
/** The `engine.work()` default poll interval, used for the claim latency. */
const POLL_MS = 250;

export interface PostgresWorkers {
  readonly workers: number;
  /** Connections on each side: one pool of one per worker; the raw side opens as many. */
  readonly connections: number;
  /** Processes on each side: one per worker, one per raw connection. */
  readonly processes: number;
  readonly runs: number;
  readonly steps: number;
  readonly seconds: number;
  readonly stepsPerSecond: number;
  /** One-statement transactions per second over the same connections: the mean of {@link rawBeforeAfter}. */
  readonly rawTransactionsPerSecond: number;
  /** The raw rate measured just before and just after the workers ran. */
  readonly rawBeforeAfter: readonly [number, number];
  /**
   * The raw rate when each transaction is the `UPDATE` alone (autocommit: one round trip and one commit, as each of
   * the store's commits is, where `BEGIN; UPDATE; COMMIT` takes three round trips), bracketed the same way; the
   * stricter baseline. {@link autocommitRatio} is stepsPerSecond over it.
   */
  readonly rawAutocommitTransactionsPerSecond: number;
  readonly rawAutocommitBeforeAfter: readonly [number, number];
  readonly autocommitRatio: number;
  /**
   * CPU time of the worker processes per step while they ran, in ms, and as a share of the wall time (in cores):
   * near the machine's cores, less the server's share, the workers are bound by the engine's CPU, not by the server.
   */
  readonly cpuMsPerStep: number;
  readonly cpuShare: number;
  /**
   * {@link cpuMsPerStep} by thread: the workers' main threads (JavaScript, and the garbage collector's and compiler's
   * work done there) and their other threads (V8's optimising compiler and garbage collector helpers, libuv's pool);
   * null when `/proc` does not show the threads.
   */
  readonly threadCpuMsPerStep: { readonly main: number; readonly others: number } | null;
  /** The same worker processes' CPU per step on the memory store (their warm-up, the mean over the processes), ms: what the PostgreSQL store adds is the difference. */
  readonly memoryCpuMsPerStep: number | null;
  /** CPU of the workers' server backends per step, ms; null when the server is not on this machine. */
  readonly serverCpuMsPerStep: number | null;
  /** The raw side's process CPU and server backend CPU per transaction, ms (the after measurement). */
  readonly rawCpuMsPerTransaction: number;
  readonly rawServerCpuMsPerTransaction: number | null;
  /** stepsPerSecond / rawTransactionsPerSecond. */
  readonly ratio: number;
  /**
   * The ratio when both sides are bound by CPU on the same cores: the raw side's CPU per transaction (process and
   * server backend) over the workers' CPU per step (processes and backends); null without the backends' CPU.
   */
  readonly cpuBoundRatio: number | null;
  /**
   * Statements the workers sent per step, by name, counted on their connections (each is one round trip): `commit` is
   * one run's commit, `commit_many` the commits of several runs that waited for the connection together (group commit),
   * `claim` a claim (with the releases and the cancel requests it carries), and so on.
   */
  readonly storeCallsPerStep: Record<string, number>;
  /** Every statement per step: the round trips to the server. */
  readonly roundTripsPerStep: number;
  /** Bytes the workers' connections sent and received per step (socket counts, protocol framing included). */
  readonly bytesSentPerStep: number;
  readonly bytesReceivedPerStep: number;
  /** {@link bytesReceivedPerStep} by statement name. */
  readonly bytesReceivedPerStepBy: Record<string, number>;
  /** Milliseconds from the start of a run's creation to its claim (idle workers polling every 250 ms, woken by NOTIFY). */
  readonly claimLatencyMs: Summary | null;
  readonly claimLatencyP99Ms: number | null;
}

export type PostgresBench =
  | { readonly skipped: string }
  | {
      readonly skipped: null;
      readonly schema: string;
      readonly workerConcurrency: number;
      readonly pollMs: number;
      /** CPUs of this machine, which the worker processes share with the server when it is local. */
      readonly cpus: number;
      /** The machine's 1-minute load average when the arm began: other work on the same cores moves every figure. */
      readonly loadAverage1m: number;
      readonly byWorkers: readonly PostgresWorkers[];
    };

const round1 = (v: number) => Math.round(v * 10) / 10;
const round3 = (v: number) => Math.round(v * 1000) / 1000;

function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? null;
}


/** The span from the first process's start to the last one's end, in seconds, and the sums over the processes. */
function totals(reports: readonly ProcessReport[]) {
  const seconds = (Math.max(...reports.map((r) => r.endedAt)) - Math.min(...reports.map((r) => r.startedAt))) / 1000;
  const backend = reports.every((r) => r.backendCpuMs !== null) ? reports.reduce((a, r) => a + (r.backendCpuMs ?? 0), 0) : null;
  const calls: Record<string, number> = {};
  for (const r of reports) for (const [k, v] of Object.entries(r.calls)) calls[k] = (calls[k] ?? 0) + v;
  const bytes = { sent: reports.reduce((a, r) => a + (r.bytes?.sent ?? 0), 0), received: reports.reduce((a, r) => a + (r.bytes?.received ?? 0), 0) };
  const receivedBy: Record<string, number> = {};
  for (const r of reports) for (const [k, v] of Object.entries(r.bytes?.receivedBy ?? {})) receivedBy[k] = (receivedBy[k] ?? 0) + v;
  const memory = reports.flatMap((r) => (r.memoryCpuMsPerStep === undefined ? [] : [r.memoryCpuMsPerStep]));
  const threads = reports.every((r) => r.threadCpuMs) ? { main: reports.reduce((a, r) => a + (r.threadCpuMs?.main ?? 0), 0), others: reports.reduce((a, r) => a + (r.threadCpuMs?.others ?? 0), 0) } : null;
  return {
    seconds, threadCpuMs: threads, cpuMs: reports.reduce((a, r) => a + r.cpuMs, 0), backendCpuMs: backend, calls, bytes, receivedBy, errors: reports.reduce((a, r) => a + r.errors, 0),
    memoryCpuMsPerStep: memory.length > 0 ? memory.reduce((a, b) => a + b, 0) / memory.length : null,
  };
}

/**
 * `connections` processes, one connection each, each committing `perConnection` one-statement transactions on its own
 * row: `BEGIN; UPDATE; COMMIT`, or the `UPDATE` alone (`autocommit`).
 */
async function rawRate(url: string, schema: string, connections: number, perConnection: number, autocommit = false) {
  await withClient(url, async (c) => {
    await c.query(`CREATE TABLE IF NOT EXISTS "${schema}".raw (id INTEGER PRIMARY KEY, n BIGINT NOT NULL)`);
    await c.query(`INSERT INTO "${schema}".raw (id, n) SELECT g, 0 FROM generate_series(1, $1) g ON CONFLICT (id) DO NOTHING`, [connections]);
  });
  const fleet = await startFleet(Array.from({ length: connections }, (_, i) => ({ mode: 'raw' as const, url, schema, id: i + 1, count: perConnection, autocommit })));
  fleet.go();
  const t = totals(await fleet.reports);
  const transactions = connections * perConnection;
  return {
    rate: Math.round(transactions / t.seconds),
    cpuMsPerTransaction: round3(t.cpuMs / transactions),
    serverCpuMsPerTransaction: t.backendCpuMs === null ? null : round3(t.backendCpuMs / transactions),
  };
}

type Loaded = ReturnType<typeof loadDefinitionFromObject>;

async function throughputWith(url: string, schema: string, workers: number, scenariosFile: string, loaded: readonly Loaded[], tag: string) {
  const producer = createPostgresStore({ url, schema, pool: 2 });
  const starter = createEngine({ store: producer, model: { baseURL: 'http://127.0.0.1:9', apiKey: 'none' } });
  try {
    const ids = await Promise.all(loaded.map(async (definition, i) => (await starter.start(definition, { runId: `${tag}-${i}`, input: { document: '' }, detach: true })).runId));
    const fleet = await startFleet(Array.from({ length: workers }, () => ({ mode: 'work' as const, url, schema, scenariosFile, concurrency: WORKER_CONCURRENCY, pollMs: 20 })));
    fleet.go();
    const t = totals(await fleet.reports);
    const views = await Promise.all(ids.map((id) => starter.get(id)));
    const notDone = views.filter((v) => v.status !== 'done');
    if (t.errors > 0 || notDone.length > 0) {
      const why = notDone.slice(0, 3).map((v) => `${v.runId} ${v.status}${v.failure ? `: ${v.failure.message}` : ''}`).join('; ');
      throw new Error(`PostgreSQL bench: ${notDone.length} runs not done (${why}), ${t.errors} worker errors`);
    }
    return { runs: ids.length, ...t };
  } finally {
    await producer.close();
  }
}

async function claimLatency(url: string, schema: string, workers: number, scenariosFile: string, definition: Loaded, samples: number): Promise<number[]> {
  const producer = createPostgresStore({ url, schema, pool: 1 });
  const starter = createEngine({ store: producer, model: { baseURL: 'http://127.0.0.1:9', apiKey: 'none' } });
  const createdAt = new Map<string, number>();
  try {
    const fleet = await startFleet(Array.from({ length: workers }, () => ({ mode: 'listen' as const, url, schema, scenariosFile, concurrency: WORKER_CONCURRENCY, pollMs: POLL_MS })));
    fleet.go();
    try {
      // Let the workers find nothing and go to sleep first, then make runs runnable at spread-out moments.
      await new Promise((done) => setTimeout(done, POLL_MS));
      for (let i = 0; i < samples; i++) {
        await new Promise((done) => setTimeout(done, 100 + ((i * 97) % 200)));
        const at = epochMs();
        const view = await starter.start(definition, { input: { document: '' }, detach: true });
        createdAt.set(view.runId, at);
      }
      // Each sample is a short run: give the last ones time to be claimed before the workers drain.
      const deadline = epochMs() + 10_000;
      while (epochMs() < deadline) {
        const views = await Promise.all([...createdAt.keys()].map((id) => starter.get(id)));
        if (views.every((v) => v.status !== 'running')) break;
        await new Promise((done) => setTimeout(done, 20));
      }
    } finally {
      fleet.stop();
    }
    const claimedAt = new Map<string, number>();
    for (const report of await fleet.reports) for (const [id, at] of report.claimedAt) if (!claimedAt.has(id) || at < (claimedAt.get(id) ?? at)) claimedAt.set(id, at);
    return [...createdAt].flatMap(([id, at]) => {
      const claimed = claimedAt.get(id);
      return claimed === undefined ? [] : [Math.max(0, claimed - at)];
    });
  } finally {
    await producer.close();
  }
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
  const loadAverage1m = Math.round((loadavg()[0] ?? 0) * 10) / 10;
  const dir = mkdtempSync(join(tmpdir(), 'stepwise-bench-scenarios-'));
  try {
    const scenariosFile = join(dir, 'scenarios.json');
    writeFileSync(scenariosFile, JSON.stringify(scenarios));
    const loaded = scenarios.map((s) => loadDefinitionFromObject(toDefinition(s, { toolOnly: true }), cachedTools(s), s.id));
    const steps = scenarios.reduce((a, s) => a + s.steps.length, 0);
    // Warm-up: migrations, prepared plans, the server's caches.
    await throughputWith(url, schema, 1, scenariosFile, loaded.slice(0, Math.max(1, Math.ceil(loaded.length / 10))), 'warm');
    const byWorkers: PostgresWorkers[] = [];
    for (const workers of options.workers ?? [1, 2, 4]) {
      const perConnection = Math.max(20, Math.ceil(steps / workers));
      const autocommitBefore = await rawRate(url, schema, workers, perConnection, true);
      const rawBefore = await rawRate(url, schema, workers, perConnection);
      const run = await throughputWith(url, schema, workers, scenariosFile, loaded, `w${workers}`);
      const rawAfter = await rawRate(url, schema, workers, perConnection);
      const autocommitAfter = await rawRate(url, schema, workers, perConnection, true);
      const raw = Math.round((rawBefore.rate + rawAfter.rate) / 2);
      const autocommit = Math.round((autocommitBefore.rate + autocommitAfter.rate) / 2);
      const latencies = loaded[0] ? await claimLatency(url, schema, workers, scenariosFile, loaded[0], options.claimSamples ?? 20) : [];
      const stepsPerSecond = Math.round(steps / run.seconds);
      byWorkers.push({
        workers,
        connections: workers,
        processes: workers,
        runs: run.runs,
        steps,
        seconds: Math.round(run.seconds * 100) / 100,
        stepsPerSecond,
        rawTransactionsPerSecond: raw,
        rawBeforeAfter: [rawBefore.rate, rawAfter.rate],
        rawAutocommitTransactionsPerSecond: autocommit,
        rawAutocommitBeforeAfter: [autocommitBefore.rate, autocommitAfter.rate],
        autocommitRatio: Math.round((stepsPerSecond / autocommit) * 100) / 100,
        cpuMsPerStep: steps > 0 ? round3(run.cpuMs / steps) : 0,
        cpuShare: Math.round((run.cpuMs / 1000 / run.seconds) * 100) / 100,
        threadCpuMsPerStep: run.threadCpuMs === null || steps === 0 ? null : { main: round3(run.threadCpuMs.main / steps), others: round3(run.threadCpuMs.others / steps) },
        memoryCpuMsPerStep: run.memoryCpuMsPerStep === null ? null : round3(run.memoryCpuMsPerStep),
        serverCpuMsPerStep: run.backendCpuMs === null || steps === 0 ? null : round3(run.backendCpuMs / steps),
        rawCpuMsPerTransaction: rawAfter.cpuMsPerTransaction,
        rawServerCpuMsPerTransaction: rawAfter.serverCpuMsPerTransaction,
        storeCallsPerStep: Object.fromEntries(Object.entries(run.calls).map(([k, v]) => [k, Math.round((v / steps) * 100) / 100])),
        roundTripsPerStep: steps > 0 ? Math.round((Object.values(run.calls).reduce((a, b) => a + b, 0) / steps) * 100) / 100 : 0,
        bytesSentPerStep: steps > 0 ? Math.round(run.bytes.sent / steps) : 0,
        bytesReceivedPerStep: steps > 0 ? Math.round(run.bytes.received / steps) : 0,
        bytesReceivedPerStepBy: Object.fromEntries(Object.entries(run.receivedBy).map(([k, v]) => [k, steps > 0 ? Math.round(v / steps) : 0])),
        ratio: Math.round((stepsPerSecond / raw) * 100) / 100,
        cpuBoundRatio:
          run.backendCpuMs === null || rawAfter.serverCpuMsPerTransaction === null || steps === 0
            ? null
            : Math.round(((rawAfter.cpuMsPerTransaction + rawAfter.serverCpuMsPerTransaction) / ((run.cpuMs + run.backendCpuMs) / steps)) * 100) / 100,
        claimLatencyMs: summarize(latencies.map(round1)),
        claimLatencyP99Ms: (() => {
          const p = percentile(latencies, 99);
          return p === null ? null : round1(p);
        })(),
      });
    }
    return { skipped: null, schema, workerConcurrency: WORKER_CONCURRENCY, pollMs: POLL_MS, cpus: availableParallelism(), loadAverage1m, byWorkers };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await dropSchema(url, schema).catch(() => {});
  }
}
