/** Test helpers: run a YAML text through parsing, validation and checks, and return the issues as text. */
import { DefinitionError, formatIssue } from '../../src/errors.js';
import { checkWorkflow } from '../../src/definition/check.js';
import { validateWorkflow } from '../../src/definition/validate.js';
import { parseYaml } from '../../src/definition/yaml.js';

/** Joins lines, so a test reads with the line numbers its assertions use. */
export const yaml = (...lines: string[]): string => `${lines.join('\n')}\n`;

/** The issues of `text` as `file:line:col: path: message`, errors and warnings apart. */
export function issuesOf(text: string, file = 'flow.yaml'): { errors: string[]; warnings: string[] } {
  try {
    const { data, locate } = parseYaml(text, file);
    const workflow = validateWorkflow(data, locate, file);
    const { errors, warnings } = checkWorkflow(workflow, locate, file);
    return { errors: errors.map(formatIssue), warnings: warnings.map(formatIssue) };
  } catch (error) {
    if (error instanceof DefinitionError) return { errors: error.issues.map(formatIssue), warnings: [] };
    throw error;
  }
}

/** The error issues of `text`. */
export const errorsOf = (text: string): string[] => issuesOf(text).errors;
