/**
 * `defineWorkflow()`: workflows written in TypeScript, typed so that a step (at
 * any depth) can only use a tool that is passed in `tools`, and a top-level step
 * only route to a top-level step that exists. Routes inside a parallel branch or
 * a map body are typed as any string. The result is validated at load time by
 * the same schema and checks as YAML definitions, which check those routes too.
 */
import type { AnyTool } from '../tools/define.js';
import type { AnalyzeStep, ChoiceStep, ClaudeStep, FinalStep, MapStep, ParallelStep, ToolStep, WaitStep, Workflow, WorkflowStep } from './schema.js';

/** A workflow definition as a TypeScript module exports it. */
export interface WorkflowModule {
  readonly kind: 'stepwise.workflow';
  /** The definition; `tools` (module paths) is a YAML-only field. */
  readonly workflow: Omit<Workflow, 'tools'>;
  readonly tools: readonly AnyTool[];
}

/** The names of the tools in `T`; `string` when a tool's name is not a literal type. */
export type ToolNames<T extends readonly AnyTool[]> = T[number]['name'];

type Routes<S extends string> = { next?: S; onError?: S };

/** Steps of a typed definition: `S` the step ids, `T` the tool names. */
export type StepSpec<S extends string, T extends string> =
  | (Omit<ClaudeStep, 'next' | 'onError' | 'claude'> & Routes<S> & { claude: Omit<ClaudeStep['claude'], 'tool'> & { tool: T } })
  | (Omit<AnalyzeStep, 'next' | 'onError'> & Routes<S>)
  | (Omit<ToolStep, 'next' | 'onError' | 'tool'> & Routes<S> & { tool: T })
  | (Omit<ChoiceStep, 'choice'> & { choice: Array<{ when?: string; next: S }> })
  | (Omit<WaitStep, 'wait'> & { wait: Omit<WaitStep['wait'], 'on' | 'onTimeout'> & { on: Record<string, S>; onTimeout?: S } })
  | FinalStep
  // Branch steps use the same tools; their ids (unique across the workflow) and routes within a branch are checked when loaded.
  | (Omit<ParallelStep, 'next' | 'onError' | 'parallel'> &
      Routes<S> & {
        parallel: Omit<ParallelStep['parallel'], 'branches'> & { branches: Record<string, { steps: Record<string, StepSpec<string, T>>; start?: string }> };
      })
  // A sub-workflow: its own definition brings its own tools.
  | (Omit<WorkflowStep, 'next' | 'onError'> & Routes<S>)
  // A map's body steps use the same tools; their routes within the body are checked when loaded.
  | (Omit<MapStep, 'next' | 'onError' | 'map'> & Routes<S> & { map: Omit<MapStep['map'], 'steps'> & { steps: Record<string, StepSpec<string, T>> } });

/** What {@link defineWorkflow} takes. */
export type WorkflowSpec<S extends string, Tools extends readonly AnyTool[]> = Omit<Workflow, 'tools' | 'steps' | 'start' | '$schema'> & {
  /** The tools steps may use. */
  tools?: Tools;
  /** First step (default: the first one listed). */
  start?: NoInfer<S>;
  steps: { [K in S]: StepSpec<NoInfer<S>, NoInfer<ToolNames<Tools>>> };
};

/**
 * Defines a workflow in TypeScript. Export the result (as default or by
 * name) and load it with `stepwise run definitions/x.ts` or `loadDefinition()`.
 *
 * @example
 * ```ts
 * export default defineWorkflow({
 *   id: 'lookup',
 *   tools: [lookup],
 *   steps: {
 *     find: { tool: 'lookup', with: { id: '{% $input.id %}' }, next: 'done' },
 *     done: { final: true, output: '{% $steps.find.output %}' },
 *   },
 * });
 * ```
 */
export function defineWorkflow<const Tools extends readonly AnyTool[] = [], S extends string = string>(
  spec: WorkflowSpec<S, Tools>,
): WorkflowModule {
  const { tools = [] as unknown as Tools, ...workflow } = spec;
  return { kind: 'stepwise.workflow', workflow: workflow as Omit<Workflow, 'tools'>, tools };
}

/** Whether `value` is what {@link defineWorkflow} returns. */
export function isWorkflowModule(value: unknown): value is WorkflowModule {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { kind?: unknown }).kind === 'stepwise.workflow' &&
    typeof (value as { workflow?: unknown }).workflow === 'object' &&
    Array.isArray((value as { tools?: unknown }).tools)
  );
}
