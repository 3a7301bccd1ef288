/**
 * The step graph of a validated definition: every transition a step declares,
 * with the path of the field that declares it, so checks can point at it.
 */
import { stepKind, type Workflow } from './schema.js';
import type { PathSegment } from './locate.js';

/** One transition: `from` leads to `to`, declared at `path` (or implied by the order of steps). */
export interface Edge {
  readonly from: string;
  readonly to: string;
  readonly path: readonly PathSegment[];
  /** True for the implicit `next` of a step without one. */
  readonly implicit: boolean;
}

/** The first step of a run: `start`, or the first step listed. */
export function startStep(workflow: Workflow): string {
  return workflow.start ?? Object.keys(workflow.steps)[0] ?? '';
}

/**
 * Where a `claude`, `analyze` or `tool` step goes on success: its `next`, or,
 * when it has none, the step listed right after it. The last step listed must
 * therefore have a `next` unless it is a `choice`, `wait` or `final` step.
 * Returns `undefined` for other kinds, and for a last step without `next`.
 */
export function nextStep(workflow: Workflow, id: string): string | undefined {
  const step = workflow.steps[id];
  if (!step || !('claude' in step || 'analyze' in step || 'tool' in step)) return undefined;
  if (step.next !== undefined) return step.next;
  const ids = Object.keys(workflow.steps);
  return ids[ids.indexOf(id) + 1];
}

/** Every transition of every step, in the order the steps are listed. */
export function edges(workflow: Workflow): Edge[] {
  const out: Edge[] = [];
  for (const [id, step] of Object.entries(workflow.steps)) {
    const at = (to: string, ...rest: PathSegment[]) => out.push({ from: id, to, path: ['steps', id, ...rest], implicit: false });
    switch (stepKind(step)) {
      case 'claude':
      case 'analyze':
      case 'tool': {
        const work = step as { next?: string; onError?: string };
        const next = nextStep(workflow, id);
        if (work.next !== undefined) at(work.next, 'next');
        else if (next !== undefined) out.push({ from: id, to: next, path: ['steps', id], implicit: true });
        if (work.onError !== undefined) at(work.onError, 'onError');
        break;
      }
      case 'choice':
        if ('choice' in step) step.choice.forEach((branch, index) => at(branch.next, 'choice', index, 'next'));
        break;
      case 'wait':
        if ('wait' in step) {
          for (const [event, to] of Object.entries(step.wait.on)) at(to, 'wait', 'on', event);
          if (step.wait.onTimeout !== undefined) at(step.wait.onTimeout, 'wait', 'onTimeout');
        }
        break;
      case 'final':
        break;
    }
  }
  return out;
}
