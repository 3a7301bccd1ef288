/**
 * Calibrating the budget's projections to the model server's tokenizer. The
 * local estimate (`countTokens`) is what the emulator bills, not what Claude's
 * tokenizer counts; a run keeps, in its persisted context, the sums of the
 * input tokens billed and of the local estimates of the same requests, and
 * scales later projections by their ratio. Like is compared with like: the
 * billed input is the whole prompt the server counted — uncached input, cache
 * writes and cache reads (`promptTokens` of its usage) — as the estimate is of the
 * whole prompt. Near the limit the projection is not trusted: the engine asks
 * `count_tokens` for the exact count.
 */
import { writeSurcharge } from './pricing.js';

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

/**
 * Whether a call needs an exact count before it is sent: its calibrated
 * projection (its cache-marked prefix written, as projected) brings the run
 * within {@link NEAR_LIMIT_MARGIN} of the limit (or past it), or, before any
 * reply, its input at {@link UNCALIBRATED_SPREAD}× would cross the limit.
 */
export function nearLimit(request: {
  readonly usedTokens: number;
  readonly estimatedInput: number;
  /** Of `estimatedInput`, the prefix the request may write to the prompt cache. */
  readonly cacheWriteTokens: number;
  readonly maxTokens: number;
  readonly calibration: Calibration | undefined;
  readonly limit: number;
}): boolean {
  const { usedTokens, estimatedInput, cacheWriteTokens, maxTokens, calibration, limit } = request;
  const after = (input: number, written: number) => usedTokens + input + writeSurcharge(Math.min(written, input)) + maxTokens;
  if (after(calibratedInput(estimatedInput, calibration), calibratedInput(cacheWriteTokens, calibration)) > (1 - NEAR_LIMIT_MARGIN) * limit) return true;
  const uncalibrated = !calibration || calibration.estimatedInput <= 0;
  const spread = (tokens: number) => Math.ceil(tokens * UNCALIBRATED_SPREAD);
  return uncalibrated && after(spread(estimatedInput), spread(cacheWriteTokens)) > limit;
}
