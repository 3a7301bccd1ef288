/**
 * Reserving a model call's cost in the run's budget pool before it is sent: the
 * choice between the local estimate and the model server's exact count
 * (`count_tokens`), made where the reservation is booked, so the steps and runs
 * sharing the pool (branches, map items, children) see each other's calls.
 *
 * The call is reserved on its estimate — scaled by the highest ratio the run or
 * its family of runs knows (../policy/calibration.ts, ./family-calibration.ts) —
 * only when that is trusted:
 * - with a ratio known: while what the pool has spent, what every call in flight
 *   holds and this call stay within {@link NEAR_LIMIT_MARGIN} of the limit, in this
 *   run's pool and in each above it;
 * - before any ratio is known: besides that, only while no other call projected
 *   so is in flight in the family, and if its input at {@link UNCALIBRATED_SPREAD}×
 *   fits under the limit too.
 * Otherwise the exact count is asked; it teaches the family the ratio (which
 * raises the estimated reservations in flight: ./budget-pool.ts) and the call is
 * reserved at it. A count that fails leaves the estimate.
 */
import { highestCalibration, isCalibrated, NEAR_LIMIT_MARGIN, type Calibration } from '../policy/calibration.js';
import type { CallProjection } from '../model/call.js';
import type { CallEstimate } from '../steps/types.js';
import type { BudgetPool, Reservation } from './budget-pool.js';

/** The projection a call was reserved at, and its reservation (null: the pool refused it, `refusal` says why). */
export type ReservedCall =
  | { readonly projection: CallProjection; readonly reservation: Reservation }
  | { readonly projection: CallProjection; readonly reservation: null; readonly refusal: string };

/**
 * Reserves `estimate`'s call in `pool`; `own` is the run's own calibration. Asking the exact count may throw when
 * the step is stopped meanwhile (its signal aborted).
 */
export async function reserveCall(pool: BudgetPool, own: Calibration | undefined, estimate: CallEstimate): Promise<ReservedCall> {
  const calibration = highestCalibration(own, pool.calibration());
  const scaled = estimate.at(calibration);
  if (trusted(pool, estimate, scaled, calibration)) {
    const reservation = pool.reserve(scaled.projectedTokens, scaled.projectedUsd, estimated(estimate, calibration));
    if (reservation) return { projection: scaled, reservation };
  }
  const exact = await estimate.exact();
  if (exact) {
    pool.learn(exact.counted, estimate.estimatedInput);
    return booked(pool, exact.projection, pool.reserve(exact.projection.projectedTokens, exact.projection.projectedUsd));
  }
  // No count to trust: the estimate, at what is known now.
  const now = highestCalibration(own, pool.calibration());
  const projection = estimate.at(now);
  return booked(pool, projection, pool.reserve(projection.projectedTokens, projection.projectedUsd, estimated(estimate, now)));
}

function trusted(pool: BudgetPool, estimate: CallEstimate, scaled: CallProjection, calibration: Calibration | undefined): boolean {
  if (pool.refusal(scaled.projectedTokens, scaled.projectedUsd, 1 - NEAR_LIMIT_MARGIN) !== null) return false;
  if (isCalibrated(calibration)) return true;
  if (pool.guessing()) return false;
  const spread = estimate.spread();
  return pool.refusal(spread.projectedTokens, spread.projectedUsd) === null;
}

const estimated = (estimate: CallEstimate, calibration: Calibration | undefined) => ({
  calibration,
  at: (higher: Calibration) => {
    const projection = estimate.at(higher);
    return { tokens: projection.projectedTokens, usd: projection.projectedUsd };
  },
});

function booked(pool: BudgetPool, projection: CallProjection, reservation: Reservation | null): ReservedCall {
  if (reservation) return { projection, reservation };
  return { projection, reservation: null, refusal: pool.refusal(projection.projectedTokens, projection.projectedUsd) ?? 'the token budget is spent' };
}
