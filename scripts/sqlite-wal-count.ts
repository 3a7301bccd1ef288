/**
 * Counts what the SQLite store writes per step on the overhead bench's workload
 * (tool-only scenarios, model time zero, synchronous FULL): WAL frames (pages)
 * and bytes, write transactions, and statements executed. A reader holds a read
 * transaction open on a second connection so no checkpoint restarts the WAL,
 * and the WAL's size then counts every frame written.
 *
 *   npx tsx scripts/sqlite-wal-count.ts [scenarios=200] [inFlight=1]
 */
import { readFileSync, statSync } from 'node:fs';
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
/** Statements of the transaction in progress, for the per-kind breakdown. */
let current: string[] = [];
const kindOf = (sql: string): string | null =>
  sql.startsWith('INSERT INTO runs') ? 'create' : sql.startsWith('UPDATE runs SET lease_owner = NULL') ? 'release'
    : sql.startsWith('UPDATE runs SET status') ? 'commit (status changes)' : sql.startsWith('UPDATE runs SET snapshot') ? 'commit' : null;
for (const method of ['run', 'get', 'all', 'iterate']) {
  const original = proto[method]!;
  proto[method] = function (this: { source: string }, ...args: unknown[]) {
    if (counting) {
      const key = this.source.replace(/\s+/g, ' ').slice(0, 70);
      executed.set(key, (executed.get(key) ?? 0) + 1);
      current.push(key);
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
  hooks: {
    committed: (t) => {
      if (!counting) return;
      transactions++;
      writes += t.writes;
      if (t.synchronous === 'FULL') fullTransactions++;
      const size = statSync(`${path}-wal`).size;
      // The last kind named wins (a failed same-status update is followed by the full one).
      const kinds = current.map(kindOf).filter((k): k is string => k !== null);
      const kind = inFlight === 1 ? (kinds.at(-1) ?? 'other') : 'batch';
      const seen = byKind.get(kind) ?? { count: 0, frames: 0 };
      byKind.set(kind, { count: seen.count + 1, frames: seen.frames + (size - lastSize) / (pageSizeNow + 24) });
      lastSize = size;
      current = [];
    },
  },
});
let pageSizeNow = 4096;
const byKind = new Map<string, { count: number; frames: number }>();
let lastSize = 0;
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
pageSizeNow = pageSize;
reader.prepare('BEGIN').run();
reader.prepare('SELECT count(*) FROM runs').get();
const walBefore = statSync(`${path}-wal`).size;
lastSize = walBefore;
current = [];
counting = true;
const steps = await runAll(0);
counting = false;
const walAfter = statSync(`${path}-wal`).size;
const frames = (walAfter - Math.max(walBefore, 32)) / (pageSize + 24);
reader.prepare('COMMIT').run();
reader.close();
// Which b-tree each frame written is a page of (the tables, their indexes, freelist and overflow pages).
const wal = readFileSync(`${path}-wal`);
const owner = new Map<number, string>();
const stat = new Database(path, { readonly: true });
for (const row of stat.prepare<[], { name: string; pageno: number; pagetype: string }>('SELECT name, pageno, pagetype FROM dbstat').all()) {
  owner.set(row.pageno, row.pagetype === 'overflow' ? `${row.name} (overflow)` : row.pagetype === 'internal' ? `${row.name} (interior)` : row.name);
}
stat.close();
const byTree = new Map<string, number>();
for (let at = Math.max(walBefore, 32); at + 24 <= walAfter; at += pageSize + 24) {
  const page = wal.readUInt32BE(at);
  const tree = owner.get(page) ?? (page === 1 ? 'header' : 'other');
  byTree.set(tree, (byTree.get(tree) ?? 0) + 1);
}
await store.close();
tmp.remove();
const per = (n: number) => (n / steps).toFixed(2);
console.log(`${count} scenarios, ${steps} steps, ${inFlight} in flight, page_size ${pageSize}`);
console.log(`WAL pages/step ${per(frames)}  WAL KB/step ${(((walAfter - Math.max(walBefore, 32)) / steps) / 1024).toFixed(1)}`);
console.log(`transactions/step ${per(transactions)} (FULL ${per(fullTransactions)})  writes/step ${per(writes)}`);
let statements = 0;
for (const n of executed.values()) statements += n;
console.log(`statements/step ${per(statements)}`);
for (const [tree, n] of [...byTree].sort((a, b) => b[1] - a[1])) console.log(`  pages of ${tree}: ${per(n)}/step`);
for (const [kind, { count, frames: f }] of byKind) console.log(`  ${kind}: ${per(count)}/step, ${(f / count).toFixed(2)} pages each`);
for (const [sql, n] of [...executed].sort((a, b) => b[1] - a[1])) console.log(`  ${per(n)}  ${sql}`);
