/**
 * Time budgets for tests that spawn processes (the CLI, tsx children, the demo
 * script). They are upper bounds that only catch a hang, never a measure of
 * speed, so they are sized for the slowest machine the suite must pass on: CI
 * with 2 cores at load 20 or more, where one CLI process (about 1 s of CPU to
 * start and run) takes 10–20 s of wall time. Nothing in the suite asserts
 * elapsed time.
 */

/** A test (or hook) that runs up to about ten processes, one after another or a few at once. */
export const SPAWN_BUDGET_MS = 300_000;

/**
 * A test whose work spans more processes than that (a long CLI session, crash
 * kills and recoveries, several workers) or one long benchmark. Measured at
 * load 25–35 on 2 cores: 17 CLI processes in a row took 172 s.
 */
export const HEAVY_BUDGET_MS = 900_000;

/**
 * The model request timeout of in-process tests against the emulator. A reply
 * takes milliseconds, but a process starved of CPU can stall for seconds: the
 * timeout only guards a hang, so a normal request must never reach it. Tests
 * of the timeout itself use the emulator's `timeout` fault and their own value.
 */
export const MODEL_TIMEOUT_MS = 60_000;

/**
 * How long a test waits for a condition another process brings about (a port
 * listening, a lease held, a line printed). Polls end as soon as it holds.
 */
export const CONDITION_BUDGET_MS = 120_000;

/**
 * Polls `condition` every `intervalMs` until it returns true; fails naming
 * `what` after `budgetMs`. For waiting on another process, never a fixed sleep.
 */
export async function waitFor(condition: () => boolean | Promise<boolean>, what: string, budgetMs = CONDITION_BUDGET_MS, intervalMs = 50): Promise<void> {
  const deadline = Date.now() + budgetMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`gave up after ${budgetMs / 1000} s waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
