/**
 * `stepwise bench --server`: the HTTP API (src/server) measured in-process
 * with concurrent clients over a temporary SQLite store (synchronous=FULL),
 * with the emulator as the model (no latency; the workflows make no model
 * call): requests/s of `GET /api/runs/:id`, runs started per second
 * (`POST /api/runs` of a three-step tool workflow that finishes at once), and
 * how long an event takes from `POST /api/runs/:id/events` to the run's SSE
 * message on `/api/runs/:id/stream`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import { loadDefinitionFromObject, type LoadedDefinition } from '../definition/load.js';
import { startEmulator } from '../emulator/server.js';
import { createEngine } from '../engine/engine.js';
import { createServer } from '../server/app.js';
import { ApiError } from '../server/errors.js';
import { createSqliteStore } from '../store/sqlite.js';
import { defineTool } from '../tools/define.js';
import { measureRate, percentileOf, round, sseReader, type Rate } from './load.js';

export interface ServerBenchOptions {
  /** Concurrent clients (default 50). */
  readonly clients?: number;
  /** `GET /api/runs/:id` requests (default 5000). */
  readonly reads?: number;
  /** Runs started with `POST /api/runs` (default 1000). */
  readonly starts?: number;
  /** Events timed from their POST to their SSE message (default 500). */
  readonly events?: number;
  readonly onProgress?: (message: string) => void;
}

export interface ServerBenchResult {
  readonly clients: number;
  readonly store: string;
  readonly getRun: Rate;
  readonly startRun: Rate & { readonly steps: number };
  readonly sseEvent: { readonly events: number; readonly p50Ms: number; readonly p99Ms: number; readonly maxMs: number };
  /** The 1-minute load average when the measure began (the machine may be shared). */
  readonly loadAverage: number;
  readonly measuredAt: string;
  readonly durationSeconds: number;
}

const TOKEN = 'stepwise-bench-token';

const echo = defineTool({
  name: 'bench_echo',
  description: 'Returns its number plus one.',
  input: z.object({ n: z.number() }),
  run: ({ n }) => ({ n: n + 1 }),
});

/** A run that finishes at once: two tool steps and a final one, no model call. */
const shortWorkflow = {
  id: 'bench-short',
  steps: {
    first: { tool: 'bench_echo', with: { n: '{% $input.n %}' } },
    second: { tool: 'bench_echo', with: { n: '{% $steps.first.output.n %}' } },
    done: { final: true, output: { n: '{% $steps.second.output.n %}' } },
  },
};

/** A run that waits for GO, then finishes. */
const waitWorkflow = {
  id: 'bench-wait',
  steps: {
    hold: { wait: { on: { GO: 'done' } } },
    done: { final: true, output: { went: true } },
  },
};

function catalog(): { get(id: string): Promise<LoadedDefinition> } {
  const definitions = new Map(
    [shortWorkflow, waitWorkflow].map((w) => [w.id, loadDefinitionFromObject(w, [echo], `bench:${w.id}`)] as const),
  );
  return {
    async get(id) {
      const found = definitions.get(id);
      if (!found) throw new ApiError(404, 'not_found', `workflow: no workflow "${id}"`);
      return found;
    },
  };
}

/** Measures the API; see the module comment. */
export async function serverBenchmark(options: ServerBenchOptions = {}): Promise<ServerBenchResult> {
  const clients = Math.max(1, options.clients ?? 50);
  const progress = options.onProgress ?? (() => {});
  const started = performance.now();
  const loadAverage = round(loadavg()[0] ?? 0, 2);
  const dir = mkdtempSync(join(tmpdir(), 'stepwise-bench-server-'));
  const emulator = await startEmulator({ seed: 1, faults: 'none' });
  const store = createSqliteStore({ path: join(dir, 'runs.db') });
  const engine = createEngine({ store, model: { baseURL: emulator.url, apiKey: 'stepwise-bench', maxRetries: 0 } });
  const server = await createServer(engine, { tokens: [{ token: TOKEN, label: 'bench' }], definitions: catalog(), log: () => {} }).listen({ port: 0 });
  const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
  const call = async (method: string, path: string, expected: number, body?: unknown): Promise<{ runId: string; status: string }> => {
    const res = await fetch(`${server.url}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    const text = await res.text();
    if (res.status !== expected) throw new Error(`${method} ${path} answered ${res.status}, not ${expected}: ${text.slice(0, 200)}`);
    return JSON.parse(text) as { runId: string; status: string };
  };
  const start = async (workflow: string, input: unknown, status: string): Promise<string> => {
    const run = await call('POST', '/api/runs', 201, { workflow, input });
    if (run.status !== status) throw new Error(`a ${workflow} run ended ${run.status}, not ${status}`);
    return run.runId;
  };

  try {
    progress(`server: ${clients} clients, SQLite store in ${dir}`);
    // Warm-up: definitions compiled, statements prepared, connections open.
    const runId = await start('bench-short', { n: 1 }, 'done');
    await measureRate(clients, clients, () => call('GET', `/api/runs/${runId}`, 200).then(() => undefined));

    const getRun = await measureRate(clients, options.reads ?? 5000, () => call('GET', `/api/runs/${runId}`, 200).then(() => undefined));
    progress(`server: GET /api/runs/:id ${getRun.requestsPerSecond} requests/s`);

    const startRun = await measureRate(clients, options.starts ?? 1000, (i) => start('bench-short', { n: i }, 'done').then(() => undefined));
    progress(`server: POST /api/runs ${startRun.requestsPerSecond} runs/s`);

    const latencies: number[] = [];
    await measureRate(clients, options.events ?? 500, async () => {
      const id = await start('bench-wait', {}, 'waiting');
      const res = await fetch(`${server.url}/api/runs/${id}/stream`, { headers });
      if (res.status !== 200 || !res.body) throw new Error(`GET /api/runs/${id}/stream answered ${res.status}`);
      const events = sseReader(res.body, 'run');
      try {
        await events.next(); // the run as it is: waiting
        const sent = performance.now();
        const [message] = await Promise.all([events.next(), call('POST', `/api/runs/${id}/events`, 200, { type: 'GO' })]);
        latencies.push(performance.now() - sent);
        if ((JSON.parse(message) as { status: string }).status === 'waiting') throw new Error('the SSE message after GO still shows the run waiting');
      } finally {
        await events.close();
      }
    });
    const sseEvent = {
      events: latencies.length,
      p50Ms: round(percentileOf(latencies, 50), 2),
      p99Ms: round(percentileOf(latencies, 99), 2),
      maxMs: round(Math.max(...latencies), 2),
    };
    progress(`server: event to SSE message p50 ${sseEvent.p50Ms} ms, p99 ${sseEvent.p99Ms} ms`);
    return {
      clients,
      store: 'sqlite (synchronous=FULL)',
      getRun,
      startRun: { ...startRun, steps: Object.keys(shortWorkflow.steps).length },
      sseEvent,
      loadAverage,
      measuredAt: new Date().toISOString(),
      durationSeconds: round((performance.now() - started) / 1000, 1),
    };
  } finally {
    await server.close();
    await store.close();
    await emulator.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The result as a Markdown table. */
export function formatServerTable(r: ServerBenchResult): string {
  const n = (v: number) => v.toLocaleString('en-US');
  return [
    `HTTP API, in-process, ${r.clients} concurrent clients, ${r.store}, load average ${r.loadAverage} at the start:`,
    '',
    '| measure | result |',
    '| --- | --- |',
    `| \`GET /api/runs/:id\` | ${n(r.getRun.requestsPerSecond)} requests/s (${n(r.getRun.requests)} in ${r.getRun.seconds} s) |`,
    `| \`POST /api/runs\`, ${r.startRun.steps}-step run to done | ${n(r.startRun.requestsPerSecond)} runs/s (${n(r.startRun.requests)} in ${r.startRun.seconds} s) |`,
    `| event: \`POST /api/runs/:id/events\` → its SSE message | p50 ${r.sseEvent.p50Ms} ms, p99 ${r.sseEvent.p99Ms} ms, max ${r.sseEvent.maxMs} ms (${n(r.sseEvent.events)} events) |`,
  ].join('\n');
}
