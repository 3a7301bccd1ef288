/**
 * Loading a definition from a file (YAML, JSON, or a TypeScript/JavaScript
 * module exporting `defineWorkflow()`) or from an object: parse, validate
 * against the schema, check semantics, load and check the tools.
 */
import { readFile } from 'node:fs/promises';
import { dirname, extname, resolve } from 'node:path';
import { DefinitionError, type DefinitionIssue } from '../errors.js';
import type { AnyTool } from '../tools/define.js';
import { checkWorkflow } from './check.js';
import { childGraph, childRefs, cycleFindings, nameFrom } from './child-cycles.js';
import { missingChildFileIssues } from './child-files.js';
import { isWorkflowModule, type WorkflowModule } from './define.js';
import { definitionHash } from './hash.js';
import { importFile, moduleExtensions } from './import-module.js';
import { nonJsonValues } from './json-data.js';
import { atStart, byPosition, dotted, issueMaker, issuesAt, type Locate } from './locate.js';
import type { Workflow } from './schema.js';
import { loadToolModules, missingToolIssues, toolUseIssues } from './tools.js';
import { syntaxErrorIn } from './ts-syntax-error.js';
import { validateWorkflow } from './validate.js';
import { parseYaml } from './yaml.js';
import { redactCredentials } from '../util/redact.js';

/** A definition ready to compile. */
export interface LoadedDefinition {
  readonly workflow: Workflow;
  /** Absolute path of the definition file, or the label of an object definition. */
  readonly source: string;
  readonly tools: Map<string, AnyTool>;
  /** Absolute paths of the tool modules loaded; empty for TypeScript and object definitions. */
  readonly toolModules: string[];
  /** Issues that do not stop the definition from running, e.g. unreachable steps. */
  readonly warnings: DefinitionIssue[];
  /** First 12 hex digits of the SHA-256 of the canonical workflow and tool names. */
  readonly hash: string;
}

/** Options of {@link loadDefinition}. */
export interface LoadOptions {
  /** Import tool modules and check that every tool used is provided (default true). */
  readonly loadTools?: boolean;
}

const dataExtensions = new Set(['.yaml', '.yml', '.json']);

/**
 * Loads and validates the definition in `file`.
 *
 * @throws DefinitionError with every issue found, each `file:line:col: path: message`.
 * @example
 * ```ts
 * const { workflow, tools, warnings } = await loadDefinition('definitions/invoice-approval.yaml');
 * ```
 */
export async function loadDefinition(file: string, options: LoadOptions = {}): Promise<LoadedDefinition> {
  const source = resolve(file);
  const ext = extname(source).toLowerCase();
  const fail = (message: string): never => {
    throw new DefinitionError([{ file, line: 1, col: 1, path: '', message }]);
  };
  if (dataExtensions.has(ext)) {
    const text = await readFile(source, 'utf8').catch((error: Error) => fail(`cannot read the definition: ${error.message}`));
    return loadData(text, file, source, options.loadTools ?? true);
  }
  if (moduleExtensions.includes(ext)) {
    const namespace = await importFile(source).catch((error: Error) => {
      // A syntax error in the module itself is reported at its place, not at 1:1 with the place repeated after it.
      const at = syntaxErrorIn(error, source);
      if (at) throw new DefinitionError([{ file, line: at.line, col: at.col, path: '', message: `cannot load the definition module: ${redactCredentials(at.message)}` }]);
      return fail(`cannot load the definition module: ${redactCredentials(error.message.split('\n')[0] ?? '')}`);
    });
    const loaded = finish(workflowModuleOf(namespace, file), file, source, options.loadTools ?? true);
    const missing = await missingChildFileIssues(loaded.workflow, dirname(source), atStart, file);
    if (missing.length > 0) throw new DefinitionError(missing);
    const cycles = await childCycleIssues(loaded.workflow, source, atStart, file);
    if (cycles.errors.length > 0) throw new DefinitionError(cycles.errors);
    return { ...loaded, warnings: [...loaded.warnings, ...cycles.warnings] };
  }
  return fail(`unsupported file type "${ext}"; use .yaml, .yml, .json, ${moduleExtensions.join(', ')}`);
}

/**
 * Loads and validates a YAML or JSON definition given as text, as if it were
 * the file `file` (which need not exist): issues name `file` with their line
 * and column, and its tool modules and child definitions resolve from its
 * directory. What a README snippet or an editor buffer is checked with.
 *
 * @throws DefinitionError with every issue found, each `file:line:col: path: message`.
 * @example
 * ```ts
 * const loaded = await loadDefinitionText(yamlText, 'definitions/draft.yaml');
 * ```
 */
export function loadDefinitionText(text: string, file: string, options: LoadOptions = {}): Promise<LoadedDefinition> {
  return loadData(text, file, resolve(file), options.loadTools ?? true);
}

/**
 * Validates a definition passed as data (what an embedding service holds) or as
 * a `defineWorkflow()` result, with the tools it may use. Issues are located at
 * `label:1:1`; `tools` module paths in the data are not loaded.
 *
 * @example
 * ```ts
 * const loaded = loadDefinitionFromObject(JSON.parse(body), [checkVendor], 'request body');
 * ```
 */
export function loadDefinitionFromObject(workflow: unknown, tools: readonly AnyTool[], label: string): LoadedDefinition {
  const module: WorkflowModule = isWorkflowModule(workflow)
    ? { ...workflow, tools: [...workflow.tools, ...tools] }
    : { kind: 'stepwise.workflow', workflow: workflow as WorkflowModule['workflow'], tools };
  return finish(module, label, label, true, true);
}

async function loadData(text: string, file: string, source: string, loadTools: boolean): Promise<LoadedDefinition> {
  const { data, locate } = parseYaml(text, file);
  refuseNonJson(data, locate, file);
  const workflow = validateWorkflow(data, locate, file);
  const { errors, warnings } = checkWorkflow(workflow, locate, file);
  errors.push(...(await missingChildFileIssues(workflow, dirname(source), locate, file)));
  const cycles = await childCycleIssues(workflow, source, locate, file);
  errors.push(...cycles.errors);
  warnings.push(...cycles.warnings);
  const paths = workflow.tools === undefined ? [] : [workflow.tools].flat();
  let tools = new Map<string, AnyTool>();
  let toolModules: string[] = [];
  if (loadTools) {
    const toolPath = (index: number) => (typeof workflow.tools === 'string' ? ['tools'] : ['tools', index]);
    const loaded = await loadToolModules(paths, dirname(source), (index, message) => ({
      file,
      ...locate(toolPath(index)),
      path: dotted(toolPath(index)),
      message,
    })).catch((error: unknown) => {
      if (error instanceof DefinitionError) throw new DefinitionError(byPosition([...errors, ...error.issues]));
      throw error;
    });
    tools = loaded.tools;
    toolModules = loaded.modules;
    errors.push(...missingToolIssues(workflow, tools, locate, file));
    const uses = toolUseIssues(workflow, tools, locate, file);
    errors.push(...uses.errors);
    warnings.push(...uses.warnings);
  }
  if (errors.length > 0) throw new DefinitionError(byPosition(errors));
  return { workflow, source, tools, toolModules, warnings, hash: definitionHash(workflow, tools.keys()) };
}

/** Refuses a definition holding values JSON cannot (see json-data.ts), each at its place, before the schema reads it. */
function refuseNonJson(data: unknown, locate: Locate, file: string): void {
  const found = nonJsonValues(data);
  if (found.length === 0) return;
  const issue = issueMaker(file, locate);
  throw new DefinitionError(byPosition(found.map((f) => issue(f.path, f.message))));
}

function workflowModuleOf(namespace: Record<string, unknown>, file: string): WorkflowModule {
  if (isWorkflowModule(namespace.default)) return namespace.default;
  const named = Object.entries(namespace).filter(([, value]) => isWorkflowModule(value));
  const issue = (message: string) => new DefinitionError([{ file, line: 1, col: 1, path: '', message }]);
  if (named.length === 0) throw issue('the module exports no workflow; export default defineWorkflow({ ... })');
  if (named.length > 1) throw issue(`the module exports ${named.length} workflows (${named.map(([name]) => name).join(', ')}); export the one to load as default`);
  return named[0]![1] as WorkflowModule;
}

/**
 * Validates and checks a TypeScript or object definition; every issue is at `file:1:1`. `ownCycles`: check the steps
 * that start the definition's own id here (a module's cycles, through files too, its loader checks).
 */
function finish(module: WorkflowModule, file: string, source: string, checkTools: boolean, ownCycles = false): LoadedDefinition {
  const locate: Locate = atStart;
  refuseNonJson(module.workflow, locate, file);
  const workflow = validateWorkflow(module.workflow, locate, file);
  const { errors, warnings } = checkWorkflow(workflow, locate, file);
  if (ownCycles) {
    // A definition given as an object is no file: only a step that starts its own id makes a cycle it can tell.
    const found = issuesAt(cycleFindings(workflow, source, new Map([[source, childRefs(workflow, source, false)]]), () => workflow.id), file, locate);
    errors.push(...found.errors);
    warnings.push(...found.warnings);
  }
  const tools = new Map<string, AnyTool>();
  for (const tool of module.tools) {
    const other = tools.get(tool.name);
    if (other && other !== tool) errors.push({ file, line: 1, col: 1, path: 'tools', message: `two different tools are named "${tool.name}"; tool names must be unique` });
    tools.set(tool.name, tool);
  }
  if (checkTools) {
    errors.push(...missingToolIssues(workflow, tools, locate, file));
    const uses = toolUseIssues(workflow, tools, locate, file);
    errors.push(...uses.errors);
    warnings.push(...uses.warnings);
  }
  if (errors.length > 0) throw new DefinitionError(errors);
  return { workflow, source, tools, toolModules: [], warnings, hash: definitionHash(workflow, tools.keys()) };
}

/**
 * Cycles of `workflow` steps through the definition at `source` (see child-cycles.ts): the definition files its
 * steps start are read (schema-checked only; one that is missing or invalid is reported when it is checked itself),
 * and theirs, as far as they go. No file is read when no step starts a definition file.
 */
async function childCycleIssues(workflow: Workflow, source: string, locate: Locate, file: string): Promise<{ errors: DefinitionIssue[]; warnings: DefinitionIssue[] }> {
  const refs = childRefs(workflow, source);
  if (refs.length === 0) return { errors: [], warnings: [] };
  const graph = await childGraph(source, refs, workflowAt);
  return issuesAt(cycleFindings(workflow, source, graph, nameFrom(source)), file, locate);
}


/** The schema-checked workflow in a definition file, or null when it cannot be read or is invalid. */
async function workflowAt(file: string): Promise<Workflow | null> {
  try {
    const ext = extname(file).toLowerCase();
    if (dataExtensions.has(ext)) {
      const { data, locate } = parseYaml(await readFile(file, 'utf8'), file);
      return validateWorkflow(data, locate, file);
    }
    if (moduleExtensions.includes(ext)) return validateWorkflow(workflowModuleOf(await importFile(file), file).workflow, atStart, file);
    return null;
  } catch {
    return null;
  }
}
