/**
 * Circuit breaker per tool, shared across runs: its state is plain JSON kept
 * in a shared store, and every transition is a pure function of the state,
 * the outcome and the time.
 *
 * closed ── threshold consecutive failures ──▶ open ── cool-down elapsed,
 * one probe let through ──▶ half_open ── probe succeeds ──▶ closed
 *                                     └─ probe fails ──▶ open (new openedAt)
 *
 * A probe that never reports (its process died) would block the tool for
 * good, so a probe older than the cool-down counts as lost and another one
 * is let through. Outcomes reported while open (calls started before the
 * breaker opened) change nothing.
 */

/** The breaker of one tool, as stored. */
export interface BreakerState {
  readonly state: 'closed' | 'open' | 'half_open';
  /** Consecutive failures. */
  readonly failures: number;
  /** When the breaker last opened, ms since epoch. */
  readonly openedAt: number | null;
  /** When the probe in flight was let through (half_open only). */
  readonly probeAt: number | null;
}

/** Options of a breaker. */
export interface BreakerOptions {
  /** Consecutive failures that open the breaker (default 5). */
  readonly threshold?: number;
  /** Time the breaker stays open before a probe, in ms (default 30 s). */
  readonly cooldownMs?: number;
}

/** A closed breaker with no failures: the state of a tool never seen. */
export const closedBreaker: BreakerState = Object.freeze({ state: 'closed', failures: 0, openedAt: null, probeAt: null });

const defaults = { threshold: 5, cooldownMs: 30_000 };

/** What {@link breakerAllows} decides. */
export interface BreakerDecision {
  readonly allowed: boolean;
  /** The state to store (changes when a probe is let through). */
  readonly next: BreakerState;
  /** When a call may be let through again, when not allowed now. */
  readonly retryAt?: number;
}

/**
 * Whether a call may go through now. Closed: yes. Open: only once the
 * cool-down has elapsed, which moves to half_open and lets one probe
 * through. Half_open with a probe in flight: no.
 *
 * @example
 * const { allowed, next } = breakerAllows(state, Date.now());
 * if (allowed) await store.put(key, next);
 */
export function breakerAllows(state: BreakerState, now: number, options: BreakerOptions = {}): BreakerDecision {
  const { cooldownMs } = { ...defaults, ...options };
  if (state.state === 'closed') return { allowed: true, next: state };
  if (state.state === 'open') {
    const due = (state.openedAt ?? now) + cooldownMs;
    if (now < due) return { allowed: false, next: state, retryAt: due };
    return { allowed: true, next: { ...state, state: 'half_open', probeAt: now } };
  }
  if (state.probeAt !== null && now < state.probeAt + cooldownMs) {
    return { allowed: false, next: state, retryAt: state.probeAt + cooldownMs };
  }
  return { allowed: true, next: { ...state, probeAt: now } };
}

/**
 * The state after a call ends. Closed: a success resets the count, a failure
 * counts and opens the breaker at `threshold`. Half_open: the probe's success
 * closes it, its failure opens it again from `now`.
 *
 * @example
 * state = breakerRecord(state, 'failure', Date.now(), { threshold: 3 });
 */
export function breakerRecord(
  state: BreakerState,
  outcome: 'success' | 'failure',
  now: number,
  options: BreakerOptions = {},
): BreakerState {
  const { threshold } = { ...defaults, ...options };
  switch (state.state) {
    case 'closed':
      if (outcome === 'success') return state.failures === 0 ? state : closedBreaker;
      return state.failures + 1 >= threshold
        ? { state: 'open', failures: state.failures + 1, openedAt: now, probeAt: null }
        : { ...state, failures: state.failures + 1 };
    case 'half_open':
      return outcome === 'success'
        ? closedBreaker
        : { state: 'open', failures: state.failures + 1, openedAt: now, probeAt: null };
    case 'open':
      return state;
  }
}
