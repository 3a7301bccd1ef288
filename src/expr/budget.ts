/**
 * The work budget of one evaluation: JSONata calls its `__evaluate_entry`
 * hook before evaluating each node of the expression tree, so counting those
 * calls counts evaluation steps. Every loop and every recursion in JSONata
 * (paths over arrays, `$map`, `$reduce`, `$sort` comparators, function
 * calls, tail calls too) evaluates nodes, so an infinite one exhausts the
 * budget; a count does not depend on how busy the machine is, so a correct
 * expression that fits passes on a slow machine as on a fast one.
 *
 * JSONata's evaluation is a chain of microtasks, which would hold the event
 * loop until it ends; every {@link yieldEvery} steps the hook waits for
 * `setImmediate`, so timers and I/O (lease renewals, HTTP) keep running while
 * a long or runaway expression is evaluated. Trivial expressions never yield.
 */
import type jsonata from 'jsonata';

const entry = Symbol.for('jsonata.__evaluate_entry');

/** Steps between two yields to the event loop. */
export const yieldEvery = 10_000;

/** Thrown when an evaluation takes more than its step budget; `limit` is the budget. */
export class StepBudgetExceeded extends Error {
  override name = 'StepBudgetExceeded';
  readonly limit: number;
  constructor(limit: number) {
    super(`more than ${limit} evaluation steps`);
    this.limit = limit;
  }
}

/**
 * Makes every evaluation of `evaluator` throw {@link StepBudgetExceeded}
 * once it has evaluated more than `maxSteps` nodes. Counts apart for each
 * evaluation (jsonata's per-evaluation base frame is the key), so concurrent
 * evaluations of one cached expression do not share a budget.
 *
 * @example
 * limitSteps(jsonata('( $f := function(){ $f() }; $f() )'), 2_000_000);
 */
export function limitSteps(evaluator: jsonata.Expression, maxSteps: number): void {
  const steps = new WeakMap<object, number>();
  const count = (_node: unknown, _input: unknown, environment: { readonly base: object }): Promise<void> | undefined => {
    const taken = (steps.get(environment.base) ?? 0) + 1;
    if (taken > maxSteps) throw new StepBudgetExceeded(maxSteps);
    steps.set(environment.base, taken);
    return taken % yieldEvery === 0 ? new Promise((resolve) => setImmediate(resolve)) : undefined;
  };
  evaluator.assign(entry as unknown as string, count);
}
