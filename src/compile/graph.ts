/**
 * The step graph of a definition: where each step leads. A `claude`, `analyze`
 * or `tool` step without `next` goes to the step listed after it.
 */
import { stepKind, type Step, type Workflow } from '../definition/schema.js';

/** The step a work step goes to on success, or null when none follows. */
export function nextOf(workflow: Workflow, id: string): string | null {
  const step = workflow.steps[id];
  if (step && 'next' in step && step.next) return step.next;
  const ids = Object.keys(workflow.steps);
  return ids[ids.indexOf(id) + 1] ?? null;
}

export function startOf(workflow: Workflow): string {
  const first = workflow.start ?? Object.keys(workflow.steps)[0];
  if (!first) throw new TypeError('A workflow needs at least one step.');
  return first;
}

/** Every step a step can lead to, with the reason. */
export function successors(workflow: Workflow, id: string): Array<{ to: string; via: string }> {
  const step: Step | undefined = workflow.steps[id];
  if (!step) return [];
  switch (stepKind(step)) {
    case 'claude':
    case 'analyze':
    case 'tool': {
      const out: Array<{ to: string; via: string }> = [];
      const next = nextOf(workflow, id);
      if (next) out.push({ to: next, via: 'next' });
      if ('onError' in step && step.onError) out.push({ to: step.onError, via: 'onError' });
      return out;
    }
    case 'choice':
      return (step as { choice: Array<{ when?: string; next: string }> }).choice.map((b, i) => ({
        to: b.next,
        via: b.when ?? `default (branch ${i + 1})`,
      }));
    case 'wait': {
      const wait = (step as { wait: { on: Record<string, string>; onTimeout?: string } }).wait;
      const out = Object.entries(wait.on).map(([event, to]) => ({ to, via: event }));
      if (wait.onTimeout) out.push({ to: wait.onTimeout, via: 'timeout' });
      return out;
    }
    case 'final':
      return [];
  }
}
