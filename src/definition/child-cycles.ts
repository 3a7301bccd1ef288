/**
 * Cycles of `workflow` steps: a definition whose `workflow` step starts the
 * definition itself (by its file, or by its own id), or a file that starts it
 * back through any chain of others. Found when a definition loads (so
 * `validate` reports them and `run` refuses the errors), at the step's file,
 * line and field:
 *
 * - an error when every run must go round the cycle: each definition on it
 *   starts the next on every path to a final step (the step is its sequence's
 *   start, or nothing leads from the start to a final step without it), so
 *   every run would start a child that starts another, until the engine's
 *   depth limit (`limits.maxDepth`) fails the deepest, and no run completes;
 * - a warning when a run can leave it (a choice, a wait's event or a route
 *   decides whether to recurse, or the step sits in a map body, whose items
 *   may be none): the recursion stops where the data says, and at the depth
 *   limit at the latest.
 *
 * A child named by another definition's id is resolved only when a run
 * starts it (the engine's `workflows` may hold it), so such a cycle is
 * bounded by the depth limit alone.
 */
import { dirname, relative, resolve } from 'node:path';
import { kindOf } from '../kinds/index.js';
import { DEFAULT_MAX_DEPTH } from '../policy/limits.js';
import { edges, nextStep } from './graph.js';
import type { PathSegment } from './locate.js';
import type { Finding } from './reach.js';
import { nestedSteps } from './nested-steps.js';
import type { Workflow } from './schema.js';
import { sequenceOf, startOf, type Sequence } from './sequences.js';

/** A `workflow` step that starts a definition known before any run: by file, or by the definition's own id. */
export interface ChildRef {
  /** The path of its `workflow.file` (or `workflow.id`). */
  readonly path: readonly PathSegment[];
  /** The definition it starts: an absolute file path, or the definition's own source. */
  readonly target: string;
  /** Whether every run of the definition that completes passes through the step. */
  readonly always: boolean;
}

/**
 * The child definitions `workflow`'s steps start, as far as the definition tells: a `workflow.file` (resolved from
 * the directory of `source`; skipped when `files` is false, for a definition that is no file) and a `workflow.id`
 * that is the definition's own. Steps in parallel branches and map bodies count too.
 */
export function childRefs(workflow: Workflow, source: string, files = true): ChildRef[] {
  const refs: ChildRef[] = [];
  const dir = dirname(source);
  const out = successors(workflow);
  for (const { id, path, inMap, workflow: ref } of nestedSteps(workflow.steps)) {
    const known = ref?.file !== undefined && files ? { field: 'file', target: resolve(dir, ref.file) } : ref?.id !== undefined && ref.id === workflow.id ? { field: 'id', target: source } : null;
    if (!known) continue;
    // A map body's steps run once per item, and there may be none: never on every path.
    refs.push({ path: [...path, 'workflow', known.field], target: known.target, always: !inMap && onEveryPath(workflow, id, out) });
  }
  return refs;
}

/** The steps each step leads to (routes to steps that exist, branch steps included). */
function successors(workflow: Workflow): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const edge of edges(workflow)) {
    if (!out.has(edge.from)) out.set(edge.from, []);
    out.get(edge.from)!.push(edge.to);
  }
  return out;
}

/**
 * Whether every way through the run passes step `id`: within its sequence no exit (a final step, or for a branch a
 * step that flows out of it) is reached from the start without it, and so for the step that holds its branch, up to
 * the top level.
 */
function onEveryPath(workflow: Workflow, id: string, out: ReadonlyMap<string, readonly string[]>): boolean {
  for (let at: string | null = id; at !== null; ) {
    const sequence = sequenceOf(workflow, at);
    if (!sequence || !unavoidableIn(workflow, sequence, at, out)) return false;
    at = sequence.owner;
  }
  return true;
}

function unavoidableIn(workflow: Workflow, sequence: Sequence, id: string, out: ReadonlyMap<string, readonly string[]>): boolean {
  const start = startOf(sequence);
  if (start === id) return true;
  const exits = (step: string) => {
    const kind = kindOf(sequence.steps[step] ?? {});
    return kind?.ends === true || (sequence.owner !== null && kind?.flows === true && nextStep(workflow, step) === undefined);
  };
  const seen = new Set([start]);
  const queue = [start];
  for (let head = 0, step = queue[0]; step !== undefined; step = queue[++head]) {
    if (exits(step)) return false;
    for (const to of out.get(step) ?? []) {
      if (to !== id && sequence.steps[to] && !seen.has(to)) {
        seen.add(to);
        queue.push(to);
      }
    }
  }
  return true;
}

/**
 * The graph of child definitions reachable from `source` (whose own refs are `refs`): each definition's refs, read
 * with `workflowAt` (null for a file that is missing or invalid, reported when that file is checked itself).
 */
export async function childGraph(source: string, refs: readonly ChildRef[], workflowAt: (file: string) => Promise<Workflow | null>): Promise<Map<string, readonly ChildRef[]>> {
  const graph = new Map<string, readonly ChildRef[]>([[source, refs]]);
  const queue = refs.map((r) => r.target);
  for (let target = queue.shift(); target !== undefined; target = queue.shift()) {
    if (graph.has(target)) continue;
    const workflow = await workflowAt(target);
    const own = workflow ? childRefs(workflow, target) : [];
    graph.set(target, own);
    queue.push(...own.map((r) => r.target));
  }
  return graph;
}

/**
 * The cycles through `source` in `graph`, one finding per step of `workflow` that starts one: an error when every
 * run goes round it, else a warning (see the module comment). `name` shows a definition in messages.
 */
export function cycleFindings(workflow: Workflow, source: string, graph: ReadonlyMap<string, readonly ChildRef[]>, name: (target: string) => string): { errors: Finding[]; warnings: Finding[] } {
  const errors: Finding[] = [];
  const warnings: Finding[] = [];
  const limit = workflow.limits?.maxDepth ?? DEFAULT_MAX_DEPTH;
  for (const ref of graph.get(source) ?? []) {
    const forced = ref.always ? chainBack(graph, ref.target, source, true) : null;
    const chain = forced ?? chainBack(graph, ref.target, source, false);
    if (!chain) continue;
    const shown = [source, ...chain].map(name).join(' → ');
    if (forced) {
      errors.push({
        path: ref.path,
        message:
          `starts ${shown} on every run: each run would start another, nesting child runs until limits.maxDepth (${limit}) fails the deepest (kind loop), so no run could complete; ` +
          'put the step behind a choice that decides whether to recurse, or break the cycle',
      });
    } else {
      warnings.push({
        path: ref.path,
        message: `starts ${shown}, a cycle of workflow steps: runs nest until a choice stops the recursion, at most limits.maxDepth (${limit}) levels below the top-level run; a step that would start a deeper child fails with kind loop`,
      });
    }
  }
  return { errors, warnings };
}

/** The definitions from `from` back to `to` (both included), following every ref or only those every run takes; null when there is no way back. */
function chainBack(graph: ReadonlyMap<string, readonly ChildRef[]>, from: string, to: string, always: boolean): string[] | null {
  const previous = new Map<string, string | null>([[from, null]]);
  const queue = [from];
  for (let head = 0, at = queue[0]; at !== undefined; at = queue[++head]) {
    if (at === to) {
      const chain: string[] = [];
      for (let step: string | null = at; step !== null; step = previous.get(step) ?? null) chain.unshift(step);
      return chain;
    }
    for (const ref of graph.get(at) ?? []) {
      if (always && !ref.always) continue;
      if (!previous.has(ref.target)) {
        previous.set(ref.target, at);
        queue.push(ref.target);
      }
    }
  }
  return null;
}

/** A definition as messages name it: its path relative to the directory of `source`. */
export const nameFrom = (source: string) => (target: string) => relative(dirname(source), target) || target;
