/**
 * The raw limit: per step one XState transition that stores the step's result
 * in context, `JSON.stringify(getPersistedSnapshot())`, and one SQLite write
 * of it. Nothing else: no journal, no expressions, no checks. Measured the two
 * ways Stepwise is: one run at a time (one transaction per step), and with
 * runs in flight, where the writes that arrive in one event-loop turn share
 * one transaction, each in its own savepoint (the group commit of the Stepwise
 * SQLite store), none acknowledged before that transaction is durable.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { assign, createActor, setup } from 'xstate';
import { cachedResults, measuredAlone, tempDir, type Synchronous, type Throughput } from './overhead.js';
import type { MeasuredArm } from './rounds.js';
import type { Scenario } from './scenarios.js';
import { pool } from './stats.js';

function limitMachine(scenario: Scenario) {
  const states: Record<string, unknown> = {};
  scenario.steps.forEach((step, i) => {
    const next = scenario.steps[i + 1]?.id ?? 'done';
    states[step.id] = { on: { DONE: { target: next, actions: 'store' } } };
  });
  states['done'] = { type: 'final' };
  return setup({
    types: { context: {} as { outputs: Record<string, unknown> }, events: {} as { type: 'DONE'; step: string; output: unknown } },
    actions: { store: assign({ outputs: ({ context, event }) => ({ ...context.outputs, [event.step]: event.output }) }) },
  }).createMachine({ id: 'limit', initial: scenario.steps[0]?.id ?? 'done', context: { outputs: {} }, states: states as never });
}

/** Writes of one event-loop turn in one transaction, a savepoint each; each resolves once the transaction committed. */
function groupCommitter(db: Database.Database, write: (id: string, snapshot: string) => void): (id: string, snapshot: string) => Promise<void> {
  type Pending = { id: string; snapshot: string; resolve: () => void; reject: (error: unknown) => void };
  let pending: Pending[] = [];
  const inSavepoint = db.transaction((w: Pending) => write(w.id, w.snapshot));
  const batch = db.transaction((writes: readonly Pending[]) => writes.map((w) => {
    try {
      inSavepoint(w);
      return null;
    } catch (error) {
      return error;
    }
  }));
  const flush = () => {
    const writes = pending;
    pending = [];
    let errors: unknown[];
    try {
      errors = batch.immediate(writes);
    } catch (error) {
      for (const w of writes) w.reject(error);
      return;
    }
    writes.forEach((w, i) => (errors[i] ? w.reject(errors[i]) : w.resolve()));
  };
  return (id, snapshot) =>
    new Promise<void>((resolve, reject) => {
      pending.push({ id, snapshot, resolve, reject });
      if (pending.length === 1) setImmediate(flush);
    });
}

/**
 * The floor at `synchronous`: `inFlight` 1 writes each step in its own transaction, run after run; more runs in
 * flight share transactions by event-loop turn (group commit).
 */
export function limitArm(scenarios: readonly Scenario[], synchronous: Synchronous, inFlight = 1): MeasuredArm {
  const tmp = tempDir();
  const db = new Database(join(tmp.dir, 'limit.db'));
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous}`);
  db.exec('CREATE TABLE runs (id TEXT PRIMARY KEY, snapshot TEXT NOT NULL)');
  const upsert = db.prepare('INSERT INTO runs (id, snapshot) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET snapshot = excluded.snapshot');
  const single = db.transaction((id: string, snapshot: string) => upsert.run(id, snapshot));
  const grouped = groupCommitter(db, (id, snapshot) => upsert.run(id, snapshot));
  const machines = scenarios.map(limitMachine);
  const results = scenarios.map(cachedResults);
  return {
    pass: async (pass) => {
      const counts = await pool(machines, inFlight, async (machine, i) => {
        const scenario = scenarios[i] as Scenario;
        const actor = createActor(machine).start();
        const id = `${pass}-${i}`;
        for (const step of scenario.steps) {
          actor.send({ type: 'DONE', step: step.id, output: results[i]?.get(step.tool) });
          const snapshot = JSON.stringify(actor.getPersistedSnapshot());
          if (inFlight === 1) single(id, snapshot);
          else await grouped(id, snapshot);
        }
        actor.stop();
        return scenario.steps.length;
      });
      return counts.reduce((a, b) => a + b, 0);
    },
    close: () => {
      db.close();
      tmp.remove();
    },
  };
}

/** The floor's steps per second at `synchronous`, measured on its own. */
export function limitThroughput(scenarios: readonly Scenario[], passes: number, synchronous: Synchronous, inFlight = 1): Promise<Throughput> {
  return measuredAlone(limitArm(scenarios, synchronous, inFlight), passes, scenarios.length);
}
