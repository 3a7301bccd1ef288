/**
 * Calibrating the budget's projections to the model server's tokenizer. The
 * local estimate (`countTokens`) is what the emulator bills, not what Claude's
 * tokenizer counts; a run keeps, in its persisted context, the sums of the
 * input tokens billed and of the local estimates of the same requests, and
 * scales later projections by their ratio. Like is compared with like: the
 * billed input is the whole prompt the server counted — uncached input, cache
 * writes and cache reads (`promptTokens` of its usage) — as the estimate is of the
 * whole prompt. While runs share a budget (a parent, its branches, its `map`
 * items and children) the ratio one of them learns is shared too
 * (src/engine/family-calibration.ts). Near the limit, or before any ratio is
 * known while another call is in flight, a projection is not trusted: the
 * engine asks `count_tokens` for the exact count (src/engine/reserve-call.ts).
 */

/** Billed (whole prompt: uncached, written and read) and locally estimated input tokens of a run's replies so far. */
export interface Calibration {
  readonly billedInput: number;
  readonly estimatedInput: number;
}

/**
 * The fraction of `stopAt × budget` below which a projection is trusted: a
 * projection that brings the run past `(1 − NEAR_LIMIT_MARGIN) × limit` is
 * checked with `count_tokens` before the call is sent.
 */
export const NEAR_LIMIT_MARGIN = 0.15;

/**
 * Before any reply the tokenizer's ratio is unknown: a projection whose input,
 * taken at this factor, would cross the limit is checked with `count_tokens` too.
 * (A server that counts more than this can bill a call sent on its estimate
 * before any reply or count showed the ratio past what was left: the README's
 * "Budgets across branches" says what is and is not guaranteed.)
 */
export const UNCALIBRATED_SPREAD = 1.5;

/**
 * Adds one attempt's billed input — its whole prompt, `promptTokens` of its
 * usage — and its local estimate; replies without an estimate (or usage) teach nothing.
 */
export function calibrate(calibration: Calibration | undefined, billedInput: number, estimatedInput: number | undefined): Calibration | undefined {
  if (!estimatedInput || estimatedInput <= 0 || billedInput <= 0) return calibration;
  return {
    billedInput: (calibration?.billedInput ?? 0) + billedInput,
    estimatedInput: (calibration?.estimatedInput ?? 0) + estimatedInput,
  };
}

/** The factor local estimates are scaled by: 1 until a reply was billed, then billed ÷ estimated. */
export function inputFactor(calibration: Calibration | undefined): number {
  if (!calibration || calibration.estimatedInput <= 0) return 1;
  return calibration.billedInput / calibration.estimatedInput;
}

/** The calibrated input tokens of a request whose local estimate is `estimated`. */
export function calibratedInput(estimated: number, calibration: Calibration | undefined): number {
  const factor = inputFactor(calibration);
  // Rounded to a millionth first, so a ratio of exactly 1 never adds a token.
  return Math.ceil(Math.round(estimated * factor * 1e6) / 1e6);
}

/** Whether a ratio was learned: some reply (or count) was compared with its local estimate. */
export function isCalibrated(calibration: Calibration | undefined): calibration is Calibration {
  return calibration !== undefined && calibration.estimatedInput > 0;
}

/** Of several calibrations (a run's own, the one its family of runs learned), the one with the highest ratio. */
export function highestCalibration(...calibrations: ReadonlyArray<Calibration | undefined>): Calibration | undefined {
  let highest: Calibration | undefined;
  for (const calibration of calibrations) {
    if (isCalibrated(calibration) && (!highest || inputFactor(calibration) > inputFactor(highest))) highest = calibration;
  }
  return highest;
}
