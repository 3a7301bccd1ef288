/**
 * Stored snapshots from before steps kept their own state: their context had
 * one `attempt`, `retryAt` and `enteredAt` for the run's single current step.
 * Upgraded when read, so runs stored by an older version (SQLite, PostgreSQL)
 * restore and go on: those values become the state of the step the snapshot
 * is at.
 */
import type { RunContext, StepRun } from '../compile/context.js';

interface LegacyContext {
  readonly attempt?: number;
  readonly retryAt?: number | null;
  readonly enteredAt?: number;
  readonly active?: Record<string, StepRun>;
}

/** The step a single-step snapshot value names: `"step"` or `{ step: phase }`. */
function currentStep(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') return Object.keys(value)[0];
  return undefined;
}

/** `snapshot` with a context that has per-step state; unchanged when it has it already. */
export function upgradeSnapshot<T>(snapshot: T): T {
  const s = snapshot as { value?: unknown; context?: RunContext & LegacyContext } | null;
  const context = s?.context;
  if (!context || typeof context !== 'object' || context.active !== undefined) return snapshot;
  const { attempt = 0, retryAt = null, enteredAt = context.startedAt, ...rest } = context;
  const step = currentStep(s.value);
  const active: Record<string, StepRun> = step === undefined ? {} : { [step]: { attempt, retryAt, enteredAt } };
  return { ...s, context: { ...rest, active } } as T;
}
