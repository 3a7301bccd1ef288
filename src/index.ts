/**
 * Stepwise: a declarative workflow engine for Claude tool use. This is the
 * public surface; anything not exported here (or from `stepwise-engine/testing`,
 * `stepwise-engine/postgres`) is internal.
 */
export { createEngine } from './engine/engine.js';
export type { Engine, EngineOptions, StartOptions, SendOptions, RunSummary } from './engine/engine.js';
export type { WorkOptions, WorkSummary } from './engine/worker.js';
export type { RateLimitOptions } from './policy/rate-limit.js';
export type { RunView, StepView } from './engine/view.js';
export type { DefinitionSource } from './engine/runtime.js';
export { systemClock, ManualClock } from './engine/clock.js';
export type { Clock } from './engine/clock.js';

export { defineTool } from './tools/define.js';
export type { Tool, AnyTool, ToolContext } from './tools/define.js';
export { defineWorkflow, loadDefinition, loadDefinitionFromObject, workflowJsonSchema } from './definition/index.js';
export type { LoadedDefinition, WorkflowModule, Workflow, Step } from './definition/index.js';
export { compile, stepState, runContext, runEvents, endStates, machineSetup, stateIdOf, target } from './compile/machine.js';
export type { WorkflowMachine, StateConfig, Transitions } from './compile/machine.js';
export type { RunContext, RunEvent, StepRun } from './compile/context.js';
export { stepRunOf } from './compile/context.js';

// Step kinds: one object per kind, in a registry every layer iterates (src/kinds). See "Adding a step kind" in the README.
export { defineStepKind, registerStepKind, stepKindList } from './kinds/index.js';
export type { StepKindDefinition, StepHandler, Advance, ActiveStep, CompileScope, KindEdge, KindFinding, ModelBound, ToolSchema } from './kinds/index.js';
export { workState, workEdges, workPathEvents, workWakeAt, ignoreOthers, visitLimit } from './kinds/work.js';
export type { WorkFields } from './kinds/work.js';
export { workHandler } from './engine/work-handler.js';
export { workKind } from './kinds/work-kind.js';
export type { WorkHandlerOptions } from './engine/work-handler.js';
export type { RunScope } from './engine/scope.js';
export { drive, activeSteps } from './engine/driver.js';
export type { DriveOptions, DriverDeps } from './engine/driver.js';
export type { StepExecutor, StepEnv, PreparedStep, StepOutcome } from './steps/types.js';
export { scopeOf } from './steps/types.js';
export { common as workStepFields, Mapping, StepId, Duration } from './definition/fields.js';
export { compileMapping, evaluateMapping } from './expr/index.js';

export { findRun, getRun, listRuns, runJournal, runStats, runSummaries, runTimeline, showRun } from './query/index.js';
export type { RunReader, RunJson, RunDetail, RunListRow } from './query/index.js';
export type { Timeline, TimelineRow, TimelineTotals } from './observe/timeline.js';
export type { StoreStats, GroupStats } from './observe/stats.js';

export { openStore } from './store/open.js';
export { createMemoryStore } from './store/memory.js';
export { createSqliteStore } from './store/sqlite.js';
export type { Store, StoreHooks } from './store/types.js';

export { resolveModel, environmentHasModel } from './model/client.js';
export type { ModelOptions } from './model/client.js';
export { countTokens } from './model/tokens.js';

export { StepwiseError, DefinitionError, RunNotFoundError, RunIdTakenError, EventNotAcceptedError, ToolError } from './errors.js';
export type { ErrorCode, DefinitionIssue, ToolErrorOptions } from './errors.js';
export type { RunStatus, Failure, FailureKind, Usage, JournalEntry, RunRecord, RunFilter } from './run/types.js';
