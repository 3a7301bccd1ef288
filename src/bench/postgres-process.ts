/**
 * One process of the PostgreSQL arm (started by ./postgres.ts with the path of
 * a {@link ProcessTask} JSON file): a worker, as `stepwise worker` is one
 * process with its own engine and pool, or one raw connection. It connects,
 * prints `ready`, waits for `go` on stdin, does its task (a `listen` worker
 * until `stop`), and prints its {@link ProcessReport} as its last line.
 * The workers take the scenarios' tools in-process, as the other overhead
 * arms do (`stepwise worker` itself cannot be given them). Before `ready` a
 * worker runs the scenarios once on the memory store (its
 * `memoryCpuMsPerStep`), then {@link POSTGRES_WARM_UP_PASSES} times on
 * PostgreSQL through `engine.work()` in a schema of its own, so the measured
 * span sees the engine, the store and the driver compiled by the JIT as a
 * long-running worker's are (without it V8's optimising compiler, on its own
 * threads, took a third of a worker's CPU in the span). The raw processes warm
 * their connection up too.
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { createEngine } from '../engine/engine.js';
import { createMemoryStore } from '../store/memory.js';
import { createPostgresStore } from '../store/postgres.js';
import { loadDefinitionFromObject } from '../definition/load.js';
import { toDefinition } from './definition.js';
import { cachedTools, stepwiseThroughput } from './overhead.js';
import { backendMeter, dropSchema, epochMs, recordingClaims, threadCpuMeter, toolsOf, withApplicationName, type ProcessReport, type ProcessTask } from './postgres-fleet.js';
import { createConnectionMeter } from './postgres-meter.js';
import type { Scenario } from './scenarios.js';

/** Passes over the scenarios a worker runs on PostgreSQL before `ready`. */
export const POSTGRES_WARM_UP_PASSES = 6;
/** One-statement transactions a raw process commits before `ready`. */
const RAW_WARM_UP = 200;

const lines = createInterface({ input: process.stdin });
const waiting = new Map<string, () => void>();
lines.on('line', (line) => waiting.get(line.trim())?.());
const heard = (word: string) => new Promise<void>((done) => waiting.set(word, done));
const send = (message: unknown) => process.stdout.write(`${JSON.stringify(message)}\n`);
const cpuMsSince = (before: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000;
};

async function raw(task: Extract<ProcessTask, { mode: 'raw' }>): Promise<ProcessReport> {
  const name = `stepwise-bench-raw-${process.pid}`;
  const client = new pg.Client({ connectionString: withApplicationName(task.url, name) });
  await client.connect();
  try {
    const update = `UPDATE "${task.schema}".raw SET n = n + 1 WHERE id = $1`;
    const loop = task.autocommit
      ? async (count: number) => {
          for (let i = 0; i < count; i++) await client.query(update, [task.id]);
        }
      : async (count: number) => {
          for (let i = 0; i < count; i++) {
            await client.query('BEGIN');
            await client.query(update, [task.id]);
            await client.query('COMMIT');
          }
        };
    await loop(RAW_WARM_UP);
    const meter = await backendMeter(client, name);
    send('ready');
    await heard('go');
    const cpu = process.cpuUsage();
    const startedAt = epochMs();
    await loop(task.count);
    const endedAt = epochMs();
    return { startedAt, endedAt, cpuMs: cpuMsSince(cpu), backendCpuMs: meter.spentMs(), calls: { transaction: task.count }, claimedAt: [], errors: 0 };
  } finally {
    await client.end();
  }
}

type WorkerTask = Extract<ProcessTask, { mode: 'work' | 'listen' }>;

/**
 * A worker's store (a pool of one, its statements and bytes counted) and engine (its claims recorded) on `schema`:
 * the warm-up's and the measured one are built alike, so the code the warm-up compiles sees the same object shapes.
 */
function workerEngine(task: WorkerTask, scenarios: readonly Scenario[], schema: string, url: string) {
  const claimedAt = new Map<string, number>();
  const connections = createConnectionMeter();
  const store = createPostgresStore({ url, schema, pool: 1, onConnect: connections.attach });
  const engine = createEngine({ store: recordingClaims(store, claimedAt), tools: toolsOf(scenarios), model: { baseURL: 'http://127.0.0.1:9', apiKey: 'none' } });
  return { store, engine, claimedAt, connections };
}

/**
 * Runs the scenarios `passes` times through `engine.work()` on PostgreSQL, in a schema of this process's own
 * (created by the store's migrations, dropped afterwards) so no other process's runs are touched; a store and
 * engine of its own, so the measured ones start with their caches cold (known runs, the engine's runtimes). The
 * compiled machines are the process's (../engine/runtime.ts): the measured worker finds the definitions it serves
 * compiled, as a worker that has run for a while does (the arm's 60 runs have 60 distinct definitions, so a cold
 * worker would compile once per run, about 2 ms each, where a production worker compiles once per definition).
 */
async function warmUpOnPostgres(task: WorkerTask, scenarios: readonly Scenario[], passes: number): Promise<void> {
  const schema = `${task.schema}_warm_${process.pid}`;
  const { store, engine } = workerEngine(task, scenarios, schema, task.url);
  // The runs are made by another store, as the arm's are: the worker's store has not seen them before it claims them.
  const producer = createPostgresStore({ url: task.url, schema, pool: 1 });
  const starter = createEngine({ store: producer, model: { baseURL: 'http://127.0.0.1:9', apiKey: 'none' } });
  try {
    const loaded = scenarios.map((s) => loadDefinitionFromObject(toDefinition(s, { toolOnly: true }), cachedTools(s), s.id));
    for (let pass = 0; pass < passes; pass++) {
      for (const [i, definition] of loaded.entries()) await starter.start(definition, { runId: `warm-${pass}-${i}`, input: { document: '' }, detach: true });
      const summary = await engine.work({ concurrency: task.concurrency, pollMs: task.pollMs, exitWhenIdle: true });
      if (summary.errors > 0) throw new Error(`PostgreSQL warm-up: ${summary.errors} worker errors`);
    }
  } finally {
    await Promise.all([store.close(), producer.close()]);
    await dropSchema(task.url, schema);
  }
}

async function worker(task: WorkerTask): Promise<ProcessReport> {
  const scenarios = JSON.parse(readFileSync(task.scenariosFile, 'utf8')) as Scenario[];
  const name = `stepwise-bench-worker-${process.pid}`;
  const { store, engine, claimedAt, connections } = workerEngine(task, scenarios, task.schema, withApplicationName(task.url, name));
  const lookup = new pg.Client({ connectionString: task.url });
  try {
    // A worker that has run for a while has its engine compiled by the JIT: warm this one up on the memory store first.
    const warm = await stepwiseThroughput(scenarios, createMemoryStore(), 1);
    await warmUpOnPostgres(task, scenarios, POSTGRES_WARM_UP_PASSES);
    await store.get(''); // connects and migrates
    await lookup.connect();
    const meter = await backendMeter(lookup, name);
    connections.reset();
    send('ready');
    await heard('go');
    const cpu = process.cpuUsage();
    const threads = threadCpuMeter();
    const startedAt = epochMs();
    const stop = new AbortController();
    if (task.mode === 'listen') void heard('stop').then(() => stop.abort());
    const summary = await engine.work({
      concurrency: task.concurrency,
      pollMs: task.pollMs,
      ...(task.mode === 'work' ? { exitWhenIdle: true } : { signal: stop.signal }),
    });
    const endedAt = epochMs();
    const sent = connections.totals();
    return { startedAt, endedAt, cpuMs: cpuMsSince(cpu), backendCpuMs: meter.spentMs(), calls: sent.statements, bytes: { sent: sent.bytesSent, received: sent.bytesReceived, receivedBy: sent.bytesReceivedBy }, claimedAt: [...claimedAt], errors: summary.errors, memoryCpuMsPerStep: warm.cpuUsPerStep / 1000, threadCpuMs: threads.spentMs() };
  } finally {
    await lookup.end().catch(() => {});
    await store.close();
  }
}

const task = JSON.parse(readFileSync(process.argv[2] ?? '', 'utf8')) as ProcessTask;
try {
  send(task.mode === 'raw' ? await raw(task) : await worker(task));
} catch (error) {
  send({ error: error instanceof Error ? error.message : String(error) });
  process.exitCode = 1;
} finally {
  lines.close();
}
