/**
 * The crash harness: starts `stepwise run` in a child process, kills it with
 * SIGKILL (at a named crash point or at a random time while the emulator's
 * `latency` fault keeps model calls in flight), recovers the run with
 * `stepwise resume`, and checks what a crash must not break: the run finishes,
 * no completed step ran again, every re-run kept its idempotency key and is
 * journaled, the journal is contiguous and every completion has its start.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { JournalEntry } from '../../src/run/types.js';
import type { Store } from '../../src/store/types.js';
import { finish, lastJson, startCli } from './cli.js';
import { journalProblems } from './helpers.js';

export const crashDefinition = path.join(import.meta.dirname, 'fixtures/crash.yaml');

export interface Scenario {
  readonly runId: string;
  /** `STEPWISE_CRASH_AT` value, or null for a random kill. */
  readonly crashAt: string | null;
  readonly killAfterMs?: number;
  /** Route the run through the wait (300 ms timeout) before it finishes. */
  readonly wait?: boolean;
  /** Also kill the first recovery (`resume`) this long after it starts: a crash during recovery. */
  readonly killResumeAfterMs?: number;
  /** The definition to run (default {@link crashDefinition}); it takes the same input and tools. */
  readonly definition?: string;
}

export interface Outcome {
  readonly scenario: Scenario;
  readonly killed: boolean;
  /** Recoveries killed too. */
  readonly resumeKills: number;
  readonly status: string;
  readonly resumes: number;
  /** Side effects of a step that had already completed (must be 0). */
  readonly completedReruns: number;
  /** Attempts whose tool ran more than once with the same key (allowed: at-least-once). */
  readonly sameKeyReruns: number;
  readonly problems: string[];
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

export async function runScenario(scenario: Scenario, store: string, dir: string, readStore: () => Store): Promise<Outcome> {
  const effects = path.join(dir, `${scenario.runId}.effects`);
  const env = { STEPWISE_TEST_EFFECTS: effects, ...(scenario.crashAt ? { STEPWISE_CRASH_AT: scenario.crashAt } : {}) };
  const args = ['run', scenario.definition ?? crashDefinition, '--id', scenario.runId, '--store', store, '--emulator', '--faults', 'latency=60', '--input', JSON.stringify({ order: scenario.runId, wait: scenario.wait ?? false }), '--json'];
  const first = await finish(startCli(args, env), scenario.crashAt ? undefined : scenario.killAfterMs);
  const killed = first.signal === 'SIGKILL';
  const problems: string[] = [];
  if (!killed && first.code !== 0) problems.push(`run exited ${first.code} ${first.signal}: ${first.stdout.slice(-200)} ${first.stderr.slice(-400)}`);

  let status = killed ? 'killed' : (parsed<{ status: string }>(first.stdout)?.status ?? 'unknown');
  let resumes = 0;
  let resumeKills = 0;
  const recoveryEnv = { STEPWISE_TEST_EFFECTS: effects };
  while (status !== 'done' && resumes < 8) {
    resumes++;
    const exists = await readStore().get(scenario.runId);
    // Killed before the run was created: the caller starts it again under the same id.
    const command = exists ? ['resume', scenario.runId, '--store', store, '--emulator', '--json'] : args;
    const result = await finish(startCli(command, recoveryEnv), resumes === 1 ? scenario.killResumeAfterMs : undefined);
    if (result.signal === 'SIGKILL') {
      resumeKills++;
      continue;
    }
    if (result.code !== 0) {
      problems.push(`recovery exited ${result.code}: ${result.stderr.slice(-400)}`);
      break;
    }
    const view = parsed<{ status: string; waitingFor: { timeoutAt: number | null } | null }>(result.stdout);
    if (!view) {
      problems.push(`recovery printed no run: ${result.stdout.slice(-200)} ${result.stderr.slice(-400)}`);
      break;
    }
    status = view.status;
    if (status === 'waiting' && view.waitingFor?.timeoutAt) await sleep(Math.max(0, view.waitingFor.timeoutAt - Date.now()) + 20);
  }
  if (status !== 'done') problems.push(`run ended ${status}`);

  const journal = await readStore().journal(scenario.runId);
  problems.push(...journalProblems(journal));
  const { completedReruns, sameKeyReruns, effectProblems } = checkEffects(scenario.runId, journal, existsSync(effects) ? readFileSync(effects, 'utf8') : '');
  problems.push(...effectProblems);
  return { scenario, killed, resumeKills, status, resumes, completedReruns, sameKeyReruns, problems };
}

function parsed<T>(stdout: string): T | null {
  try {
    return lastJson<T>(stdout);
  } catch {
    return null;
  }
}

/** Compares the tools' side effects with the journal. */
export function checkEffects(runId: string, journal: readonly JournalEntry[], effectsText: string) {
  const effects = effectsText
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [key, at] = line.split(' ');
      const [, step, visit, attempt] = (key as string).slice(runId.length).split(':');
      return { key: key as string, step: step as string, visit: Number(visit), attempt: Number(attempt), at: Number(at) };
    });
  const effectProblems: string[] = [];
  let completedReruns = 0;
  for (const done of journal.filter((e) => e.event === 'completed')) {
    const later = effects.filter((e) => e.step === done.step && e.visit === done.visit && e.at > done.at);
    completedReruns += later.length;
    // A parallel step calls no tool itself (its `started` names its branches): its branch steps have the effects.
    const container = journal.some((e) => e.event === 'started' && e.step === done.step && (e.data as { branches?: unknown } | null | undefined)?.branches !== undefined);
    if (!container && !effects.some((e) => e.step === done.step && e.visit === done.visit && e.attempt === done.attempt)) {
      effectProblems.push(`completed ${done.step}:${done.visit}:${done.attempt} without its side effect`);
    }
  }
  const counts = new Map<string, number>();
  for (const e of effects) counts.set(e.key, (counts.get(e.key) ?? 0) + 1);
  let sameKeyReruns = 0;
  for (const [key, n] of counts) {
    const [, step, visit, attempt] = key.slice(runId.length).split(':');
    const started = journal.filter((e) => e.event === 'started' && e.step === step && e.visit === Number(visit) && e.attempt === Number(attempt));
    if (started.length === 0) effectProblems.push(`side effect ${key} of an attempt the journal never started`);
    if (n > 1) {
      sameKeyReruns += n - 1;
      if (!started.some((e) => (e.data as { rerun?: boolean } | undefined)?.rerun)) effectProblems.push(`${key} ran ${n} times but no re-run is journaled`);
    }
  }
  return { completedReruns, sameKeyReruns, effectProblems };
}

/** Runs scenarios `parallel` at a time. */
export async function runAll(scenarios: readonly Scenario[], parallel: number, one: (s: Scenario) => Promise<Outcome>): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  const queue = [...scenarios];
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      for (let next = queue.shift(); next; next = queue.shift()) outcomes.push(await one(next));
    }),
  );
  return outcomes;
}

export function report(label: string, outcomes: readonly Outcome[]): string {
  const kills = outcomes.filter((o) => o.killed);
  const targeted = kills.filter((o) => o.scenario.crashAt).length;
  const resumeKills = outcomes.reduce((n, o) => n + o.resumeKills, 0);
  const lost = outcomes.filter((o) => o.status !== 'done').length;
  const completedReruns = outcomes.reduce((n, o) => n + o.completedReruns, 0);
  const sameKey = outcomes.reduce((n, o) => n + o.sameKeyReruns, 0);
  return `${label}: runs ${outcomes.length}, kills ${kills.length + resumeKills} (targeted ${targeted}, random ${kills.length - targeted}, during recovery ${resumeKills}), completed steps re-run ${completedReruns}, attempts re-run with the same key ${sameKey}, runs lost ${lost}`;
}
