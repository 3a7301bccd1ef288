/** Definitions: the schema, loading YAML and TypeScript definitions, validation with located issues, JSON Schema. */
export * from './schema.js';
export { loadDefinition, loadDefinitionFromObject, loadDefinitionText } from './load.js';
export type { LoadedDefinition, LoadOptions } from './load.js';
export { defineWorkflow, isWorkflowModule } from './define.js';
export type { WorkflowModule, WorkflowSpec, StepSpec, ToolNames } from './define.js';
export { validateWorkflow } from './validate.js';
export { checkWorkflow } from './check.js';
export type { CheckResult } from './check.js';
export { parseYaml } from './yaml.js';
export type { ParsedYaml } from './yaml.js';
export { atStart, dotted } from './locate.js';
export type { Locate, PathSegment, Position } from './locate.js';
export { edges, nextStep, startStep } from './graph.js';
export type { Edge } from './graph.js';
export { loadToolModules, missingToolIssues, toolsOf } from './tools.js';
export type { ToolModules, ToolModuleIssue } from './tools.js';
export { definitionHash, canonicalJson } from './hash.js';
export { workflowJsonSchema, workflowJsonSchemaText, workflowSchemaId } from './json-schema.js';
