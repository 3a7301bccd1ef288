/**
 * What the engine needs to drive a run of one definition version: its compiled
 * machine and its tools. Built once per version and cached.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { compile, type WorkflowMachine } from '../compile/machine.js';
import { nextStep, startStep } from '../definition/graph.js';
import type { Workflow } from '../definition/schema.js';
import type { StoredDefinition } from '../run/types.js';
import type { AnyTool } from '../tools/define.js';
import { BoundedMap } from '../util/bounded-map.js';

/** A definition as callers hand it to the engine: loaded from a file, or built in code. */
export interface DefinitionSource {
  readonly workflow: Workflow;
  readonly tools?: ReadonlyMap<string, AnyTool> | readonly AnyTool[];
  /** Absolute paths of the tool modules a YAML definition named. */
  readonly toolModules?: readonly string[];
  /** The definition file, when there is one. */
  readonly source?: string | null;
  readonly hash?: string;
}

export interface Runtime {
  readonly version: string;
  readonly definition: StoredDefinition;
  readonly machine: WorkflowMachine;
  readonly tools: ReadonlyMap<string, AnyTool>;
}

export function versionOf(workflow: Workflow): string {
  return createHash('sha256').update(JSON.stringify(workflow)).digest('hex').slice(0, 12);
}

export function toolMap(tools: ReadonlyMap<string, AnyTool> | readonly AnyTool[] | undefined): Map<string, AnyTool> {
  if (!tools) return new Map();
  if (tools instanceof Map) return new Map(tools);
  return new Map((tools as readonly AnyTool[]).map((t) => [t.name, t]));
}

/**
 * The workflow with its implicit routes written out: `start`, and the `next` of
 * every work step that relies on the order steps are listed in. A stored run
 * then means the same thing whatever its store does to key order (PostgreSQL's
 * `jsonb` sorts keys).
 */
export function explicitRoutes(workflow: Workflow): Workflow {
  let explicit = withRoutes.get(workflow);
  if (!explicit) {
    explicit = writeRoutes(workflow);
    withRoutes.set(workflow, explicit);
  }
  return explicit;
}

/** Loaded workflows never change: each one's explicit form is made once. */
const withRoutes = new WeakMap<Workflow, Workflow>();

function writeRoutes(workflow: Workflow): Workflow {
  const steps: Record<string, Workflow['steps'][string]> = {};
  for (const [id, step] of Object.entries(workflow.steps)) {
    const next = nextStep(workflow, id);
    steps[id] = next !== undefined ? { ...step, next } : step;
  }
  return { ...workflow, start: startStep(workflow), steps };
}

export function storedDefinition(source: DefinitionSource): StoredDefinition {
  return {
    workflow: explicitRoutes(source.workflow),
    source: source.source ? path.resolve(source.source) : null,
    toolModules: (source.toolModules ?? []).map((m) => path.resolve(m)),
  };
}

/**
 * Compiled machines by version, shared by every engine in the process: a version names the workflow's content (its
 * hash), and a machine is a pure description (no tools, no store), so engines on other stores, and a worker's
 * engine made anew, reuse what another compiled. Bounded: least recently used first out.
 */
export const COMPILED_MACHINES_HELD = 256;
const machines = new BoundedMap<string, WorkflowMachine>(COMPILED_MACHINES_HELD);

function machineOf(workflow: Workflow, version: string): WorkflowMachine {
  const cached = machines.touch(version);
  if (cached) return cached;
  const machine = compile(workflow);
  machines.set(version, machine);
  return machine;
}

/** The compiled machine of a stored definition (compiled once per version); throws when the definition cannot be compiled. */
export function machineFor(definition: StoredDefinition, version: string): WorkflowMachine {
  return machineOf(definition.workflow, version);
}

export function buildRuntime(definition: StoredDefinition, version: string, tools: ReadonlyMap<string, AnyTool>): Runtime {
  return { version, definition, machine: machineOf(definition.workflow, version), tools };
}
