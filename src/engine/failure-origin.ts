/**
 * How a failure that came up through child runs (a `workflow` step's child, a `map` item) or a `parallel` branch
 * reads in the steps above it: where it began (the steps down to it) and the message it began with, never the
 * messages of the levels between, so a failure nested at any depth reads in one short line that still names its
 * root cause and the way to it. (Kinds import this; it imports nothing of the driver.)
 */
import type { Failure, FailureOrigin } from '../run/types.js';

/** Steps of a path named at each end when it is longer than both; those between are counted. */
const NAMED_AT_EACH_END = 3;

/**
 * Where a failure began, as the step above the run (or the branch) that failed sees it: `step`, the one that failed
 * (none for a run cancelled before any step), then the failure's own origin; else the failure's own message.
 */
export function originBelow(step: string | null, failure: Pick<Failure, 'message' | 'origin'>): FailureOrigin {
  const below = failure.origin?.path ?? [];
  return { path: step === null ? below : [step, ...below], message: failure.origin?.message ?? failure.message };
}

/** The origin of a map item's failure as its map step sees it: the item (`[index]`), then the item run's origin. */
export function throughItem(index: number, origin: FailureOrigin): FailureOrigin {
  return { path: [`[${index}]`, ...origin.path], message: origin.message };
}

/**
 * `<head> at <path>: <message>` (`<head>: <message>` for an empty path): the path's steps joined by ` > `, a map
 * item written after its map step (`lines[2]`), the middle of a long path counted instead of named.
 *
 * @example
 * ```ts
 * locatedMessage('the child run r~sub.1 (billing) failed', { path: ['post'], message: 'post: the ledger is locked' });
 * // 'the child run r~sub.1 (billing) failed at post: post: the ledger is locked'
 * ```
 */
export function locatedMessage(head: string, origin: FailureOrigin): string {
  const steps: string[] = [];
  for (const part of origin.path) {
    if (part.startsWith('[') && steps.length > 0) steps[steps.length - 1] += part;
    else steps.push(part);
  }
  if (steps.length === 0) return `${head}: ${origin.message}`;
  const shown =
    steps.length <= 2 * NAMED_AT_EACH_END + 1
      ? steps
      : [...steps.slice(0, NAMED_AT_EACH_END), `… (${steps.length - 2 * NAMED_AT_EACH_END} more)`, ...steps.slice(-NAMED_AT_EACH_END)];
  return `${head} at ${shown.join(' > ')}: ${origin.message}`;
}
