/**
 * Tool modules of a YAML definition (its `tools:` field): loading them, and
 * checking that every tool a step uses is provided by one of them.
 */
import { located, ownSteps, scopesOf } from './scopes.js';
import { stepPath } from './sequences.js';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { DefinitionError, type DefinitionIssue } from '../errors.js';
import { isTool, toolInputSchema, toolOutputSchema, type AnyTool } from '../tools/define.js';
import { unboundedToolOutputFindings } from './context-bounds.js';
import { importFile } from './import-module.js';
import { issueMaker, type Locate, type PathSegment } from './locate.js';
import type { Workflow } from './schema.js';
import { didYouMean } from './suggest.js';
import { kindOf } from '../kinds/index.js';
import { messageOf } from '../util/error-message.js';
import { redactCredentials } from '../util/redact.js';

/** Tools gathered from modules, by name, and the absolute paths of those modules. */
export interface ToolModules {
  readonly tools: Map<string, AnyTool>;
  readonly modules: string[];
}

/** Builds the issue for a problem with the tool module at `index` of the `tools` field. */
export type ToolModuleIssue = (index: number, message: string) => DefinitionIssue;

/** The tools a module exports: every export that is a tool or an array of tools, the default export included. */
export function toolsOf(namespace: Record<string, unknown>): AnyTool[] {
  const found = new Set<AnyTool>();
  for (const value of Object.values(namespace)) {
    if (isTool(value)) found.add(value);
    else if (Array.isArray(value) && value.length > 0 && value.every(isTool)) value.forEach((tool) => found.add(tool));
  }
  return [...found];
}

/**
 * Imports tool modules, resolving each path against `baseDir` (the definition
 * file's directory). `.ts`/`.mts` modules load through tsx.
 *
 * @param issueAt locates problems; by default they point at line 1 of the module.
 * @throws DefinitionError when a module cannot be loaded, exports no tool, or
 * two different tools share a name.
 * @example
 * ```ts
 * const { tools } = await loadToolModules(['./tools/invoice.ts'], dirname(file));
 * tools.get('check_vendor');
 * ```
 */
export async function loadToolModules(paths: string[], baseDir: string, issueAt?: ToolModuleIssue): Promise<ToolModules> {
  const at: ToolModuleIssue = issueAt ?? ((index, message) => ({ file: resolve(baseDir, paths[index] ?? ''), line: 1, col: 1, path: 'tools', message }));
  const tools = new Map<string, AnyTool>();
  const origin = new Map<string, string>();
  const modules: string[] = [];
  const issues: DefinitionIssue[] = [];
  for (const [index, path] of paths.entries()) {
    const file = resolve(baseDir, path);
    modules.push(file);
    let namespace: Record<string, unknown>;
    try {
      if (!(await stat(file).catch(() => undefined))?.isFile()) throw new Error(`no such file ${file}`);
      namespace = await importFile(file);
    } catch (error) {
      // What a module throws while it loads (a client made from an env key) is hidden as a tool's error at run time is.
      const reason = redactCredentials(messageOf(error).split('\n')[0] ?? '');
      issues.push(at(index, `cannot load tool module ${path}: ${reason}`));
      continue;
    }
    const exported = toolsOf(namespace);
    if (exported.length === 0) issues.push(at(index, `tool module ${path} exports no tools; export defineTool(...) results (or arrays of them)`));
    for (const tool of exported) {
      const other = tools.get(tool.name);
      if (other && other !== tool) {
        issues.push(at(index, `tool "${tool.name}" is defined twice: in ${origin.get(tool.name)} and in ${path}; tool names must be unique`));
        continue;
      }
      tools.set(tool.name, tool);
      origin.set(tool.name, path);
    }
  }
  if (issues.length > 0) throw new DefinitionError(issues);
  return { tools, modules };
}

/**
 * Tools used by steps (as their kinds name them: `claude.tool`, `tool`) that
 * `tools` does not provide, one issue per use, at the field naming it: the
 * steps of branches and map bodies at any depth too.
 */
export function missingToolIssues(workflow: Workflow, tools: ReadonlyMap<string, AnyTool>, locate: Locate, file: string): DefinitionIssue[] {
  const issue = issueMaker(file, locate);
  const names = [...tools.keys()].sort();
  const available = names.length ? `Available tools: ${names.join(', ')}.` : 'No tools are loaded: list tool modules in `tools:`.';
  const issues: DefinitionIssue[] = [];
  for (const scope of scopesOf(workflow)) {
    for (const [id, step] of ownSteps(scope)) {
      for (const use of kindOf(step)?.tools?.(step) ?? []) {
        if (tools.has(use.name)) continue;
        const hint = didYouMean(use.name, names) || '.';
        issues.push(issue(located(scope, [...stepPath(scope.workflow, id), ...use.path]), `step "${id}" uses tool "${use.name}", which is not provided${hint} ${available}`));
      }
    }
  }
  return issues;
}

/**
 * The kinds' checks that need tool schemas (e.g. a `claude` step's `with:`
 * keys), and the `context:` values holding a whole tool output its output
 * schema does not bound, for the tools that are provided, located at the
 * step's fields: the steps of branches and map bodies at any depth too.
 */
export function toolUseIssues(
  workflow: Workflow,
  tools: ReadonlyMap<string, AnyTool>,
  locate: Locate,
  file: string,
): { errors: DefinitionIssue[]; warnings: DefinitionIssue[] } {
  const issue = issueMaker(file, locate);
  const toolOf = (name: string) => {
    const tool = tools.get(name);
    // A tool from a plain JavaScript module may declare no input schema: its fields are not known, so not checked.
    const input = typeof tool?.input === 'object' && tool.input !== null ? toolInputSchema(tool) : {};
    return tool && { name: tool.name, description: tool.description, input_schema: input, ...(tool.output ? { output_schema: toolOutputSchema(tool.output) } : {}) };
  };
  const errors: DefinitionIssue[] = [];
  const warnings: DefinitionIssue[] = [];
  for (const scope of scopesOf(workflow)) {
    for (const [id, step] of ownSteps(scope)) {
      const found = kindOf(step)?.toolChecks?.(step, toolOf);
      const at = (f: { readonly path: readonly PathSegment[] }) => located(scope, [...stepPath(scope.workflow, id), ...f.path]);
      for (const f of found?.errors ?? []) errors.push(issue(at(f), f.message, 'key'));
      for (const f of found?.warnings ?? []) warnings.push(issue(at(f), f.message, 'key'));
    }
    for (const f of unboundedToolOutputFindings(scope.workflow, toolOf)) warnings.push(issue(located(scope, f.path), f.message));
  }
  return { errors, warnings };
}
