/** What a branch of a `parallel` step hands on, read from the run's context (used by the machine's `recordBranches`). */
import type { RunContext } from '../compile/context.js';

/**
 * The output of a branch made of steps `ids`: the output of the step that ran
 * last in it, or `{ error: { step, kind, message } }` when that step failed
 * (a branch collected by `onBranchError: collect`).
 */
export function branchOutput(context: Pick<RunContext, 'trail' | 'steps'>, ids: readonly string[]): unknown {
  const members = new Set(ids);
  for (let i = context.trail.length - 1; i >= 0; i--) {
    const entry = context.trail[i]!;
    if (!members.has(entry.id)) continue;
    const result = context.steps[entry.id];
    if (!result) return null;
    if (result.status === 'failed') return { error: { step: entry.id, kind: result.error?.kind ?? 'tool_error', message: result.error?.message ?? 'failed' } };
    return result.output;
  }
  return null;
}
