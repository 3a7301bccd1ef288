/**
 * One process of the PostgreSQL arm (started by ./postgres.ts with the path of
 * a {@link ProcessTask} JSON file): a worker, as `stepwise worker` is one
 * process with its own engine and pool, or one raw connection. It connects,
 * prints `ready`, waits for `go` on stdin, does its task (a `listen` worker
 * until `stop`), and prints its {@link ProcessReport} as its last line.
 * The workers take the scenarios' tools in-process, as the other overhead
 * arms do (`stepwise worker` itself cannot be given them), and run the
 * scenarios once on the memory store before `ready`, so the measured span
 * sees a warm engine, as a long-running worker's is.
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { createEngine } from '../engine/engine.js';
import { createMemoryStore } from '../store/memory.js';
import { createPostgresStore } from '../store/postgres.js';
import { stepwiseThroughput } from './overhead.js';
import { backendMeter, epochMs, recordingClaims, toolsOf, withApplicationName, type ProcessReport, type ProcessTask } from './postgres-fleet.js';
import { createConnectionMeter } from './postgres-meter.js';
import type { Scenario } from './scenarios.js';

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
    const loop = async (count: number) => {
      for (let i = 0; i < count; i++) {
        await client.query('BEGIN');
        await client.query(update, [task.id]);
        await client.query('COMMIT');
      }
    };
    await loop(Math.min(20, task.count)); // warm-up
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

async function worker(task: Extract<ProcessTask, { mode: 'work' | 'listen' }>): Promise<ProcessReport> {
  const scenarios = JSON.parse(readFileSync(task.scenariosFile, 'utf8')) as Scenario[];
  const name = `stepwise-bench-worker-${process.pid}`;
  const claimedAt = new Map<string, number>();
  const connections = createConnectionMeter();
  const store = createPostgresStore({ url: withApplicationName(task.url, name), schema: task.schema, pool: 1, onConnect: connections.attach });
  const engine = createEngine({ store: recordingClaims(store, claimedAt), tools: toolsOf(scenarios), model: { baseURL: 'http://127.0.0.1:9', apiKey: 'none' } });
  const lookup = new pg.Client({ connectionString: task.url });
  try {
    // A worker that has run for a while has its engine compiled by the JIT: warm this one up on the memory store first.
    const warm = await stepwiseThroughput(scenarios, createMemoryStore(), 1);
    await store.get(''); // connects and migrates
    await lookup.connect();
    const meter = await backendMeter(lookup, name);
    connections.reset();
    send('ready');
    await heard('go');
    const cpu = process.cpuUsage();
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
    return { startedAt, endedAt, cpuMs: cpuMsSince(cpu), backendCpuMs: meter.spentMs(), calls: sent.statements, bytes: { sent: sent.bytesSent, received: sent.bytesReceived, receivedBy: sent.bytesReceivedBy }, claimedAt: [...claimedAt], errors: summary.errors, memoryCpuMsPerStep: warm.cpuUsPerStep / 1000 };
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
