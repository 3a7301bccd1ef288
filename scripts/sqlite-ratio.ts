/**
 * The overhead bench's SQLite figures alone: Stepwise on SQLite FULL (one run at a time, 16 in flight) beside the raw
 * limit measured the same two ways, and the memory store; wall µs/step and CPU µs/step of the best of `passes`.
 *
 *   npx tsx scripts/sqlite-ratio.ts [scenarios=200] [passes=3]
 */
import { join } from 'node:path';
import { limitThroughput } from '../src/bench/limit.js';
import { IN_FLIGHT, stepwiseThroughput, tempDir, type Throughput } from '../src/bench/overhead.js';
import { generateScenarios } from '../src/bench/scenarios.js';
import { createMemoryStore } from '../src/store/memory.js';
import { createSqliteStore } from '../src/store/sqlite.js';

const scenarios = generateScenarios(1, Number(process.argv[2] ?? 200));
const passes = Number(process.argv[3] ?? 3);
const show = (name: string, t: Throughput) => console.log(`${name.padEnd(28)} ${String(t.usPerStep).padStart(6)} µs/step  cpu ${String(t.cpuUsPerStep).padStart(6)} µs/step`);

const memory = createMemoryStore();
await memory.migrate();
show('stepwise memory', await stepwiseThroughput(scenarios, memory, passes));
const sqlite = async (inFlight: number) => {
  const tmp = tempDir();
  const store = createSqliteStore({ path: join(tmp.dir, 'stepwise.db'), synchronous: 'FULL' });
  try {
    return await stepwiseThroughput(scenarios, store, passes, inFlight);
  } finally {
    await store.close();
    tmp.remove();
  }
};
const one = await sqlite(1);
show('stepwise sqlite FULL 1', one);
const limitOne = await limitThroughput(scenarios, passes, 'FULL');
show('limit FULL 1', limitOne);
const many = await sqlite(IN_FLIGHT);
show(`stepwise sqlite FULL ${IN_FLIGHT}`, many);
const limitMany = await limitThroughput(scenarios, passes, 'FULL', IN_FLIGHT);
show(`limit FULL ${IN_FLIGHT}`, limitMany);
console.log(`ratio one at a time ${(limitOne.usPerStep / one.usPerStep).toFixed(2)}, ${IN_FLIGHT} in flight ${(limitMany.usPerStep / many.usPerStep).toFixed(2)}`);
