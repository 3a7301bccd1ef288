/**
 * What a caller hands the engine (a run's input, an event's data) as the
 * engine keeps it: a JSON copy of its own, taken at the edge. Nothing the
 * caller does to its object afterwards reaches the run, its journal or its
 * store (the memory store keeps committed values as they are:
 * ../store/kept-value.ts), and a value JSON cannot hold is refused here with
 * the place it is at, instead of failing the store's write.
 */
import { StepwiseError, type ErrorCode } from '../errors.js';
import { storable } from '../run/storable.js';

/**
 * The engine's copy of `value` (JSON's rules: `toJSON` applied, `undefined` members left out); a value JSON cannot
 * hold (a BigInt, a function, a cycle, NaN) throws a {@link StepwiseError} of `code` naming `what` and the place.
 */
export function callerValue(value: unknown, what: string, code: ErrorCode): unknown {
  const result = storable(value, Number.MAX_SAFE_INTEGER);
  if (!result.ok) throw new StepwiseError(code, `The ${what} cannot be stored as JSON: ${result.reason}`);
  return result.value;
}
