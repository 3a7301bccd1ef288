/**
 * Counts what the SQLite store writes per step on the overhead bench's workload
 * (tool-only scenarios, model time zero, synchronous FULL): WAL frames (pages)
 * and bytes, write transactions, and statements executed. A reader holds a read
 * transaction open on a second connection so no checkpoint restarts the WAL,
 * and the WAL's size then counts every frame written.
 *
 *   npx tsx scripts/sqlite-wal-count.ts [scenarios=200] [inFlight=1]
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { loadDefinitionFromObject } from '../src/definition/load.js';
import { ManualClock } from '../src/engine/clock.js';
import { createEngine } from '../src/engine/engine.js';
import { createSqliteStore } from '../src/store/sqlite.js';
import { toDefinition } from '../src/bench/definition.js';
import { cachedTools, tempDir } from '../src/bench/overhead.js';
import { generateScenarios, type Scenario } from '../src/bench/scenarios.js';
import { pool } from '../src/bench/stats.js';

const count = Number(process.argv[2] ?? 200);
const inFlight = Number(process.argv[3] ?? 1);

// Statement executions, by SQL, counted on the prototype every statement shares.
const probe = new Database(':memory:');
const proto = Object.getPrototypeOf(probe.prepare('SELECT 1')) as Record<string, (...args: unknown[]) => unknown>;
probe.close();
const executed = new Map<string, number>();
let counting = false;
for (const method of ['run', 'get', 'all', 'iterate']) {
  const original = proto[method]!;
  proto[method] = function (this: { source: string }, ...args: unknown[]) {
    if (counting) {
      const key = this.source.replace(/\s+/g, ' ').slice(0, 70);
      executed.set(key, (executed.get(key) ?? 0) + 1);
    }
    return original.apply(this, args);
  };
}

const tmp = tempDir();
const path = join(tmp.dir, 'stepwise.db');
let transactions = 0;
let fullTransactions = 0;
let writes = 0;
const store = createSqliteStore({
  path,
  synchronous: 'FULL',
  hooks: { committed: (t) => { if (!counting) return; transactions++; writes += t.writes; if (t.synchronous === 'FULL') fullTransactions++; } },
});
const engine = createEngine({ store, clock: new ManualClock({ autoAdvance: true }), model: { baseURL: 'http://127.0.0.1:9', apiKey: 'none' } });
const scenarios = generateScenarios(1, count);
const loaded = scenarios.map((s) => loadDefinitionFromObject(toDefinition(s, { toolOnly: true }), cachedTools(s), s.id));
const runAll = async (pass: number) => {
  const counts = await pool(loaded, inFlight, async (definition, i) => {
    const view = await engine.start(definition, { runId: `${pass}-${i}`, input: { document: '' } });
    if (view.status !== 'done') throw new Error(`run ${view.runId} ended ${view.status}`);
    return (scenarios[i] as Scenario).steps.length;
  });
  return counts.reduce((a, b) => a + b, 0);
};
await runAll(-1); // warm-up: prepared statements, definitions stored
const reader = new Database(path, { readonly: true });
const pageSize = reader.pragma('page_size', { simple: true }) as number;
reader.prepare('BEGIN').run();
reader.prepare('SELECT count(*) FROM runs').get();
const walBefore = statSync(`${path}-wal`).size;
counting = true;
const steps = await runAll(0);
counting = false;
const walAfter = statSync(`${path}-wal`).size;
const frames = (walAfter - Math.max(walBefore, 32)) / (pageSize + 24);
reader.prepare('COMMIT').run();
reader.close();
await store.close();
tmp.remove();
const per = (n: number) => (n / steps).toFixed(2);
console.log(`${count} scenarios, ${steps} steps, ${inFlight} in flight, page_size ${pageSize}`);
console.log(`WAL pages/step ${per(frames)}  WAL KB/step ${(((walAfter - Math.max(walBefore, 32)) / steps) / 1024).toFixed(1)}`);
console.log(`transactions/step ${per(transactions)} (FULL ${per(fullTransactions)})  writes/step ${per(writes)}`);
let statements = 0;
for (const n of executed.values()) statements += n;
console.log(`statements/step ${per(statements)}`);
for (const [sql, n] of [...executed].sort((a, b) => b[1] - a[1])) console.log(`  ${per(n)}  ${sql}`);
