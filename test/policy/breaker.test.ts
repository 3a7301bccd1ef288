import { describe, expect, it } from 'vitest';
import { breakerAllows, breakerRecord, closedBreaker, type BreakerState } from '../../src/policy/breaker.js';

const options = { threshold: 3, cooldownMs: 1000 };
const fail = (state: BreakerState, now: number) => breakerRecord(state, 'failure', now, options);
const roundTrip = (state: BreakerState): BreakerState => JSON.parse(JSON.stringify(state)) as BreakerState;

function opened(at: number): BreakerState {
  return fail(fail(fail(closedBreaker, at - 2), at - 1), at);
}

describe('closed', () => {
  it('allows calls and leaves the state alone', () => {
    expect(breakerAllows(closedBreaker, 0, options)).toEqual({ allowed: true, next: closedBreaker });
  });

  it('counts consecutive failures and opens at the threshold', () => {
    const one = fail(closedBreaker, 1);
    expect(one).toEqual({ state: 'closed', failures: 1, openedAt: null, probeAt: null });
    const two = fail(one, 2);
    expect(two.state).toBe('closed');
    expect(fail(two, 3)).toEqual({ state: 'open', failures: 3, openedAt: 3, probeAt: null });
  });

  it('resets the count on success', () => {
    const two = fail(fail(closedBreaker, 1), 2);
    const reset = breakerRecord(two, 'success', 3, options);
    expect(reset).toEqual(closedBreaker);
    expect(fail(fail(reset, 4), 5).state).toBe('closed');
  });

  it('uses threshold 5 and cool-down 30 s by default', () => {
    let state = closedBreaker;
    for (let i = 0; i < 4; i++) state = breakerRecord(state, 'failure', i);
    expect(state.state).toBe('closed');
    state = breakerRecord(state, 'failure', 100);
    expect(state.state).toBe('open');
    expect(breakerAllows(state, 100 + 29_999).allowed).toBe(false);
    expect(breakerAllows(state, 100 + 30_000).allowed).toBe(true);
  });
});

describe('open', () => {
  it('refuses calls during the cool-down and says when to retry', () => {
    const state = opened(10_000);
    expect(breakerAllows(state, 10_500, options)).toEqual({ allowed: false, next: state, retryAt: 11_000 });
    expect(breakerAllows(state, 10_999, options).allowed).toBe(false);
  });

  it('lets exactly one probe through once the cool-down has elapsed', () => {
    const state = opened(10_000);
    const first = breakerAllows(state, 11_000, options);
    expect(first.allowed).toBe(true);
    expect(first.next).toEqual({ state: 'half_open', failures: 3, openedAt: 10_000, probeAt: 11_000 });
    const second = breakerAllows(first.next, 11_001, options);
    expect(second.allowed).toBe(false);
    expect(second.next).toBe(first.next);
  });

  it('ignores outcomes of calls started before it opened', () => {
    const state = opened(10_000);
    expect(breakerRecord(state, 'success', 10_100, options)).toBe(state);
    expect(fail(state, 10_200)).toBe(state);
  });
});

describe('half_open', () => {
  const probing = breakerAllows(opened(10_000), 11_000, options).next;

  it('closes when the probe succeeds', () => {
    const closed = breakerRecord(probing, 'success', 11_200, options);
    expect(closed).toEqual(closedBreaker);
    expect(breakerAllows(closed, 11_201, options).allowed).toBe(true);
  });

  it('opens again from now when the probe fails', () => {
    const reopened = fail(probing, 11_200);
    expect(reopened).toEqual({ state: 'open', failures: 4, openedAt: 11_200, probeAt: null });
    expect(breakerAllows(reopened, 12_199, options).allowed).toBe(false);
    expect(breakerAllows(reopened, 12_200, options).allowed).toBe(true);
  });

  it('lets another probe through when the first one is lost', () => {
    expect(breakerAllows(probing, 11_999, options)).toMatchObject({ allowed: false, retryAt: 12_000 });
    const retry = breakerAllows(probing, 12_000, options);
    expect(retry.allowed).toBe(true);
    expect(retry.next.probeAt).toBe(12_000);
  });

  it('lets a probe through when none is in flight', () => {
    const idle: BreakerState = { ...probing, probeAt: null };
    expect(breakerAllows(idle, 11_100, options)).toMatchObject({ allowed: true, next: { probeAt: 11_100 } });
  });
});

describe('serialisation', () => {
  it('survives JSON at every step', () => {
    let state = roundTrip(closedBreaker);
    for (let i = 0; i < 3; i++) state = roundTrip(fail(state, i));
    expect(state.state).toBe('open');
    const probe = breakerAllows(state, 5000, options);
    state = roundTrip(probe.next);
    expect(state.state).toBe('half_open');
    state = roundTrip(breakerRecord(state, 'success', 5100, options));
    expect(state).toEqual(closedBreaker);
  });
});
