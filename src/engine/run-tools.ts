/**
 * The tools of a stored run, loaded again in a process that did not start it
 * (a resume, a worker): from the tool modules its YAML named, or from the
 * TypeScript/JavaScript definition module it came from.
 */
import { isWorkflowModule } from '../definition/define.js';
import { importFile, moduleExtensions } from '../definition/import-module.js';
import { loadToolModules, toolsOf } from '../definition/tools.js';
import type { StoredDefinition } from '../run/types.js';
import type { AnyTool } from '../tools/define.js';
import { extname } from 'node:path';

export async function loadRunTools(definition: StoredDefinition): Promise<Map<string, AnyTool>> {
  const tools = new Map<string, AnyTool>();
  if (definition.toolModules.length > 0) {
    for (const [name, tool] of (await loadToolModules([...definition.toolModules], '/')).tools) tools.set(name, tool);
  }
  const source = definition.source;
  if (source && moduleExtensions.includes(extname(source).toLowerCase())) {
    const namespace = await importFile(source);
    for (const value of Object.values(namespace)) {
      if (isWorkflowModule(value)) for (const tool of value.tools) tools.set(tool.name, tool);
    }
    for (const tool of toolsOf(namespace)) tools.set(tool.name, tool);
  }
  return tools;
}
