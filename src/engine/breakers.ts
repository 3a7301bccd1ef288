/**
 * The circuit breakers of an engine: one per tool, kept in the store's shared
 * values (`breaker:<tool>`) so every run of every engine on that store — other
 * processes and machines included — sees the same state. Every transition is
 * the pure one of `policy/breaker.ts`, applied inside `store.updateShared`, so
 * concurrent callers never lose an update.
 *
 * Reads are cached only for the common case, a breaker closed with no
 * failures: once seen so (read, or written by this engine) it is trusted for
 * `quietTtlMs` of the engine clock before it is read again, so a healthy tool
 * costs no store round trip per call. On a store that reads by prefix
 * (`readSharedPrefix`), one read returns every tool's breaker, and every quiet
 * one (a tool never failed has no stored breaker) is trusted for the TTL
 * together: one round trip per TTL for all the tools of an engine. Any other state is read from the store
 * every time and every change goes through `updateShared`. The price: a
 * breaker another process opened (or a failure count it began) is seen here
 * up to `quietTtlMs` late.
 */
import { breakerAllows, breakerRecord, closedBreaker, type BreakerState } from '../policy/breaker.js';
import { breakerKey, type ResolvedBreaker } from '../policy/breaker-policy.js';
import type { Store } from '../store/types.js';
import type { Clock } from './clock.js';

/** A change of a breaker's state, as journaled (`event: 'breaker'`). */
export interface BreakerChange {
  readonly tool: string;
  readonly from: BreakerState['state'];
  readonly to: BreakerState['state'];
  readonly failures: number;
  readonly at: number;
  /** When an open breaker lets a probe through. */
  readonly retryAt: number | null;
}

/** What {@link Breakers.acquire} decides. */
export interface BreakerPermit {
  readonly allowed: boolean;
  /** When the breaker lets a call through again, when not allowed. */
  readonly retryAt: number | null;
  readonly change: BreakerChange | null;
}

export interface Breakers {
  /** Would a call be rejected now? Changes nothing (no probe is taken). */
  isOpen(tool: string, policy: ResolvedBreaker): Promise<{ open: boolean; retryAt: number | null }>;
  /** Asks to call the tool now; in half_open this takes the one probe. */
  acquire(tool: string, policy: ResolvedBreaker): Promise<BreakerPermit>;
  /** Reports how a call that was let through ended. */
  record(tool: string, outcome: 'success' | 'failure', policy: ResolvedBreaker): Promise<BreakerChange | null>;
  /** The stored state of a tool's breaker (closed when never seen). */
  state(tool: string): Promise<BreakerState>;
}

/** How long a closed breaker with no failures is trusted before it is read again, by default (engine clock). */
export const QUIET_TTL_MS = 1000;

const options = (policy: ResolvedBreaker) => ({ threshold: policy.threshold, cooldownMs: policy.cooldownMs });

function changeOf(tool: string, before: BreakerState, after: BreakerState, at: number, policy: ResolvedBreaker): BreakerChange | null {
  if (before.state === after.state) return null;
  return {
    tool,
    from: before.state,
    to: after.state,
    failures: after.failures,
    at,
    retryAt: after.state === 'open' ? (after.openedAt ?? at) + policy.cooldownMs : null,
  };
}

/**
 * Creates the breakers of an engine over its store and clock.
 *
 * @example
 * ```ts
 * const breakers = createBreakers(store, clock); // { quietTtlMs: 0 } reads the store before every call
 * const permit = await breakers.acquire('check_vendor', { threshold: 5, cooldownMs: 30_000 });
 * if (permit.allowed) await breakers.record('check_vendor', ok ? 'success' : 'failure', policy);
 * ```
 */
export function createBreakers(store: Store, clock: Clock, settings: { readonly quietTtlMs?: number } = {}): Breakers {
  const quietTtlMs = settings.quietTtlMs ?? QUIET_TTL_MS;
  /** A closed breaker with no failures lets calls through and stays as it is: nothing to write. */
  const quiet = (state: BreakerState) => state.state === 'closed' && state.failures === 0;
  /** Per tool: until when (engine clock) its breaker is known to be quiet. */
  const quietUntil = new Map<string, number>();
  /** With a store that reads by prefix: until when every tool not in {@link loud} is known to be quiet (one read for all). */
  let allQuietUntil = Number.NEGATIVE_INFINITY;
  /** Tools whose breaker was last seen other than quiet: read alone, on every call. */
  const loud = new Set<string>();
  /** Remembers what the store said (or was told): a quiet state for a while, anything else not at all. */
  const seen = (tool: string, state: BreakerState): BreakerState => {
    if (quiet(state)) loud.delete(tool);
    else loud.add(tool);
    if (quiet(state) && quietTtlMs > 0) quietUntil.set(tool, clock.now() + quietTtlMs);
    else quietUntil.delete(tool);
    return state;
  };
  const readOne = async (tool: string) => seen(tool, (await store.readShared<BreakerState>(breakerKey(tool))) ?? closedBreaker);
  /** Every breaker in one read: the quiet ones (and the never-written) are trusted together for the TTL. */
  const readAll = async (tool: string, byPrefix: NonNullable<Store['readSharedPrefix']>) => {
    const prefix = breakerKey('');
    const states = await byPrefix.call(store, prefix) as Array<readonly [string, BreakerState]>;
    const at = clock.now();
    loud.clear();
    quietUntil.clear();
    let mine: BreakerState = closedBreaker;
    for (const [key, state] of states) {
      const name = key.slice(prefix.length);
      if (!quiet(state)) loud.add(name);
      if (name === tool) mine = state;
    }
    if (quietTtlMs > 0) allQuietUntil = at + quietTtlMs;
    return seen(tool, mine);
  };
  const read = (tool: string) => (store.readSharedPrefix && quietTtlMs > 0 && !loud.has(tool) ? readAll(tool, store.readSharedPrefix) : readOne(tool));
  const cached = (tool: string) => {
    const now = clock.now();
    const until = quietUntil.get(tool);
    if (until !== undefined && now < until) return closedBreaker;
    return now < allQuietUntil && !loud.has(tool) ? closedBreaker : read(tool);
  };

  return {
    async isOpen(tool, policy) {
      const decision = breakerAllows(await cached(tool), clock.now(), options(policy));
      return { open: !decision.allowed, retryAt: decision.retryAt ?? null };
    },

    async acquire(tool, policy) {
      if (quiet(await cached(tool))) return { allowed: true, retryAt: null, change: null };
      const now = clock.now();
      let before: BreakerState = closedBreaker;
      let decision: ReturnType<typeof breakerAllows> | null = null;
      seen(tool, await store.updateShared<BreakerState>(breakerKey(tool), (current) => {
        before = current ?? closedBreaker;
        decision = breakerAllows(before, now, options(policy));
        return decision.next;
      }));
      const made = decision as ReturnType<typeof breakerAllows> | null;
      if (!made) return { allowed: true, retryAt: null, change: null };
      return { allowed: made.allowed, retryAt: made.retryAt ?? null, change: changeOf(tool, before, made.next, now, policy) };
    },

    async record(tool, outcome, policy) {
      if (outcome === 'success' && quiet(await cached(tool))) return null;
      const now = clock.now();
      let before: BreakerState = closedBreaker;
      const after = seen(tool, await store.updateShared<BreakerState>(breakerKey(tool), (current) => {
        before = current ?? closedBreaker;
        return breakerRecord(before, outcome, now, options(policy));
      }));
      return changeOf(tool, before, after, now, policy);
    },

    state: readOne,
  };
}
