/**
 * The overhead bench's head-to-head without LangGraph: Stepwise (memory store, SQLite FULL one run at a time and 16
 * in flight, SQLite NORMAL) and the raw limit measured in the same rounds, as `npm run bench` does; wall µs/step and
 * CPU µs/step of the best pass, then the paired ratios the targets read (the median of the rounds' ratios).
 *
 *   npx tsx scripts/sqlite-ratio.ts [scenarios=200] [passes=5]
 */
import { headToHead } from '../src/bench/head-to-head.js';
import type { Throughput } from '../src/bench/overhead.js';
import { generateScenarios } from '../src/bench/scenarios.js';

const scenarios = generateScenarios(1, Number(process.argv[2] ?? 200));
const passes = Number(process.argv[3] ?? 5);
const show = (name: string, t: Throughput) => console.log(`${name.padEnd(28)} ${String(t.usPerStep).padStart(6)} µs/step  cpu ${String(t.cpuUsPerStep).padStart(6)} µs/step`);

const h = await headToHead(scenarios, passes, { langgraph: process.env.LG === "1", onProgress: (m) => console.error(m) });
show('stepwise memory', h.stepwise.memory);
show('stepwise sqlite FULL 1', h.stepwise.sqliteFull);
show('limit FULL 1', h.limit.sqliteFull);
show('stepwise sqlite FULL 16', h.stepwise.sqliteFullConcurrent);
show('limit FULL 16', h.limit.sqliteFullConcurrent);
show('stepwise sqlite NORMAL', h.stepwise.sqliteNormal);
show('limit NORMAL', h.limit.sqliteNormal);
for (const [name, r] of Object.entries(h.paired)) if (r) console.log(`${name.padEnd(28)} ${r.median}  (rounds ${r.rounds.join(' ')})`);
