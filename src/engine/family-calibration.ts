/**
 * The calibration a run shares with the runs that share its budget pool — its
 * `parallel` branches, its `map` items, its `workflow` children and theirs — for
 * as long as one drive runs them. Every reply any of them is billed, and every
 * exact count (`count_tokens`) any of them asks, teaches all of them the model
 * server's ratio to the local estimate: the items of a map started after the
 * first reply project at that ratio, not at 1× (each run's own persisted
 * calibration still counts: see {@link ./budget-pool.ts} `calibration()`).
 *
 * It also follows the reservations in flight that were made on an estimate
 * ({@link Guess}): when a higher ratio is learned, each is raised to its
 * projection at it, so the pool counts a call sent on a low guess at what it
 * will now likely be billed; and it tells whether a call projected before any
 * ratio was known is in flight, which ./reserve-call.ts lets happen one at a time.
 */
import { calibrate, inputFactor, type Calibration } from '../policy/calibration.js';

/** An estimated reservation in flight, as the family follows it. */
export interface Guess {
  /** The ratio it was projected with (1 before any was known). */
  readonly factor: number;
  /** Whether a ratio was known when it was projected. */
  readonly calibrated: boolean;
  /** Raises the reservation to its projection at `calibration`, whose ratio is higher than the one it was made with. */
  readonly raise: (calibration: Calibration) => void;
}

export interface FamilyCalibration {
  /** What the family learned in this drive: the sums of the server's counts and of the local estimates of the same requests. */
  learned(): Calibration | undefined;
  /** Learns one request's count by the server (a reply's whole prompt, a `count_tokens` answer) against its local estimate. */
  learn(counted: number, estimated: number): void;
  /** Follows `guess` until the returned function is called (its reservation ended). */
  follow(guess: Guess): () => void;
  /** Whether a reservation projected before any ratio was known is in flight, and no ratio was learned since. */
  guessing(): boolean;
}

/** A family's calibration, made by the pool of the run at its top. */
export function createFamilyCalibration(): FamilyCalibration {
  let learned: Calibration | undefined;
  const inFlight = new Set<{ factor: number; calibrated: boolean; readonly raise: Guess['raise'] }>();
  return {
    learned: () => learned,
    learn(counted, estimated) {
      const next = calibrate(learned, counted, estimated);
      if (next === learned || !next) return;
      learned = next;
      const factor = inputFactor(next);
      for (const guess of inFlight) {
        guess.calibrated = true;
        if (factor <= guess.factor) continue;
        guess.factor = factor;
        guess.raise(next);
      }
    },
    follow(guess) {
      const followed = { factor: guess.factor, calibrated: guess.calibrated, raise: guess.raise };
      inFlight.add(followed);
      return () => inFlight.delete(followed);
    },
    guessing() {
      for (const guess of inFlight) if (!guess.calibrated) return true;
      return false;
    },
  };
}
