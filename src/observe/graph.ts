/**
 * The step graph of a compiled workflow, read from the XState machine itself
 * (not from the definition), so every diagram shows what actually runs: one
 * node per step, one edge per transition that leaves a step, labelled with
 * what takes it (a branch condition, an event, an error route).
 */
import { stepOf } from '../definition/sequences.js';
import type { AnyStateMachine } from 'xstate';
import { compile } from '../compile/machine.js';
import type { Workflow } from '../definition/schema.js';
import { kindOf } from '../kinds/index.js';
import { startStep } from '../definition/graph.js';
import { bodyWorkflow, type MapSpec } from '../kinds/map-body.js';

/** A step's kind (`claude`, `tool`, … or a registered one), or `failed` / `cancelled` for the run's end states. */
export type NodeKind = string;

export interface GraphNode {
  readonly id: string;
  readonly kind: NodeKind;
  /** What the step does, e.g. the tool it calls. */
  readonly detail: string;
  /** The branch (region) of a parallel step this step belongs to; absent at the top level. */
  readonly region?: { readonly step: string; readonly branch: string };
  /** A `map` step's body: the graph of the steps each item runs. */
  readonly body?: StepGraph;
}

/** A branch of a parallel step: a region drawn as a cluster, from its start to the steps that end it. */
export interface GraphRegion {
  readonly step: string;
  readonly branch: string;
  readonly start: string;
  /** The steps whose route leaves the branch (they end it). */
  readonly ends: readonly string[];
}

export interface GraphEdge {
  readonly from: string;
  readonly to: string;
  readonly label: string;
  /** A failure route (`onError`, no branch matched, a wait timing out without a route). */
  readonly failure: boolean;
}

export interface StepGraph {
  readonly id: string;
  readonly start: string;
  readonly nodes: readonly GraphNode[];
  readonly edges: readonly GraphEdge[];
  /** The branches of parallel steps, in the order listed. */
  readonly regions: readonly GraphRegion[];
}

interface StateNodeLike {
  readonly key: string;
  readonly id: string;
  readonly meta?: { stepwise?: { kind?: string } };
  readonly parent?: StateNodeLike;
  readonly states: Record<string, StateNodeLike>;
  readonly transitions: Map<string, ReadonlyArray<{ target?: readonly StateNodeLike[] | undefined; guard?: unknown }>>;
}

/** The step a state node belongs to: itself or its nearest ancestor that is a step state (`meta.stepwise`). */
function stepOfNode(node: StateNodeLike | undefined): string | undefined {
  let at = node;
  while (at && !at.meta?.stepwise) at = at.parent;
  return at?.key;
}

/** `{% expr %}` → `expr`, shortened for a diagram label. */
export function conditionLabel(when: string): string {
  const text = when.replace(/^\s*\{%\s*/, '').replace(/\s*%\}\s*$/, '').replace(/\$steps\.([\w-]+)\.output\./g, '$1.');
  return text.length > 64 ? `${text.slice(0, 61)}…` : text;
}

function guardOf(guard: unknown): { type: string; params: Record<string, unknown> } | null {
  if (typeof guard === 'string') return { type: guard, params: {} };
  if (guard && typeof guard === 'object' && 'type' in guard) {
    const g = guard as { type: string; params?: Record<string, unknown> };
    return { type: g.type, params: g.params ?? {} };
  }
  return null;
}

function edgeLabel(event: string, guard: unknown): { label: string; failure: boolean } {
  const g = guardOf(guard);
  switch (event) {
    case 'step.done':
      return { label: '', failure: false };
    case 'step.failed':
      return { label: g?.type === 'breakerOpen' ? 'breaker open' : 'error', failure: true };
    case 'choice.take':
      return { label: String(g?.params['when'] ?? '') === 'otherwise' ? 'otherwise' : conditionLabel(String(g?.params['when'] ?? '')), failure: false };
    case 'choice.none':
      return { label: 'no branch matched', failure: true };
    case 'wait.timeout':
      return { label: 'timeout', failure: false };
    case 'parallel.fail':
      return { label: 'branch failed', failure: true };
    default:
      // Every branch of a parallel step ended (its `onDone`): the step's success route.
      if (event.startsWith('xstate.done.state.')) return { label: '', failure: false };
      return { label: event, failure: false };
  }
}

/** What the success route (no label of its own) is called once another route to the same step shares its edge. */
const SUCCESS = 'done';

/**
 * The label of one edge drawn for two routes to the same step: each route's label once, the success route named
 * (first) so that it does not vanish behind a failure's label; the success route alone keeps no label.
 * @example
 * mergedLabel('', 'error'); // 'done / error'
 * mergedLabel('error', 'breaker open'); // 'error / breaker open'
 */
function mergedLabel(prior: string, label: string): string {
  const parts = prior === '' ? [SUCCESS] : prior.split(' / ');
  const next = label === '' ? SUCCESS : label;
  const all = parts.includes(next) ? parts : next === SUCCESS ? [SUCCESS, ...parts] : [...parts, next];
  return all.length === 1 && all[0] === SUCCESS ? '' : all.join(' / ');
}

/** Whether the step can time out: its kind gives it a wake time (a `wait` with `timeout`). */
function hasTimeout(workflow: Workflow, id: string): boolean {
  const step = stepOf(workflow, id) as { wait?: { timeout?: unknown } } | undefined;
  return step?.wait?.timeout !== undefined;
}

/** What the step does, as its kind labels it. */
function detailOf(workflow: Workflow, id: string): string {
  const step = stepOf(workflow, id);
  return step ? (kindOf(step)?.label(step) ?? '') : '';
}

/** The step graph of `machine` (compiled from `workflow` when not given). */
export function stepGraph(workflow: Workflow, machine: AnyStateMachine = compile(workflow)): StepGraph {
  const root = machine.root as unknown as StateNodeLike;
  const nodes: GraphNode[] = [];
  const edges: GraphEdge[] = [];
  const regions: GraphRegion[] = [];
  const seen = new Map<string, number>();
  const visit = (id: string, node: StateNodeLike, region: GraphNode['region']) => {
    const spec = stepOf(workflow, id);
    const kind: NodeKind = node.meta?.stepwise?.kind ?? (spec ? (kindOf(spec)?.name ?? 'failed') : 'failed');
    const body = spec && kind === 'map' ? stepGraph(bodyWorkflow(workflow, id, spec as MapSpec, (step) => kindOf(step)?.ends === true)) : undefined;
    nodes.push({ id, kind, detail: detailOf(workflow, id), ...(region ? { region } : {}), ...(body ? { body } : {}) });
    const inner = [node, ...Object.values(node.states ?? {})];
    for (const state of inner) {
      for (const [event, transitions] of state.transitions) {
        // Run-wide events, and a final step's own end (`final.done` / `final.failed`), are not step edges.
        if (event.startsWith('run.') || event.startsWith('final.')) continue;
        if (event === 'wait.timeout' && !hasTimeout(workflow, id)) continue;
        // A choice with a default branch (no `when`) always takes a branch: "no branch matched" cannot happen.
        if (event === 'choice.none' && (stepOf(workflow, id) as { choice?: Array<{ when?: string }> }).choice?.some((b) => b.when === undefined)) continue;
        for (const t of transitions) {
          for (const target of t.target ?? []) {
            // The end of a branch: the step ends its region.
            if (target.key.startsWith('$end:')) {
              const at = regions.find((r) => region && r.step === region.step && r.branch === region.branch);
              if (at && !at.ends.includes(id)) (at.ends as string[]).push(id);
              continue;
            }
            const to = stepOfNode(target);
            if (!to || to === id) continue;
            const { label, failure } = edgeLabel(event, t.guard);
            const key = `${id}>${to}`;
            const same = seen.get(key);
            if (same === undefined) {
              seen.set(key, edges.length);
              edges.push({ from: id, to, label, failure });
            } else {
              const prior = edges[same]!;
              edges[same] = { ...prior, label: mergedLabel(prior.label, label), failure: prior.failure && failure };
            }
          }
        }
      }
    }
    // A step holding branches: each branch is a region of its own, drawn as a cluster.
    const sequences = spec ? kindOf(spec)?.sequences?.(spec) : undefined;
    const branches = node.states?.['branches']?.states ?? {};
    for (const sequence of sequences ?? []) {
      const states = branches[sequence.name]?.states ?? {};
      regions.push({ step: id, branch: sequence.name, start: sequence.start ?? Object.keys(sequence.steps)[0] ?? '', ends: [] });
      for (const member of Object.keys(sequence.steps)) if (states[member]) visit(member, states[member], { step: id, branch: sequence.name });
    }
  };
  for (const [id, node] of Object.entries(root.states)) visit(id, node, undefined);
  const targeted = new Set(edges.map((e) => e.to));
  return {
    id: workflow.id,
    start: startStep(workflow),
    // `$failed` and `$cancelled` are reachable from every step (a failure, a cancel); shown only when a route names them.
    // `$done` is where every final step ends, never a step of its own.
    nodes: nodes.filter((n) => (n.kind !== 'failed' && n.kind !== 'cancelled' && (n.kind as string) !== 'done') || targeted.has(n.id)),
    edges,
    regions,
  };
}
