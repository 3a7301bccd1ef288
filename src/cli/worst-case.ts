/** The worst-case token bound `validate` prints for a loaded definition, and its warning. */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import type { LoadedDefinition } from '../definition/load.js';
import type { Position } from '../definition/locate.js';
import { parseYaml } from '../definition/yaml.js';
import type { DefinitionIssue } from '../errors.js';
import { worstCaseTokens, type WorstCase } from '../policy/worst-case.js';
import { toolInputSchema, toolOutputSchema } from '../tools/define.js';
import { thousands } from '../util/thousands.js';

export function worstCaseOf(loaded: Pick<LoadedDefinition, 'workflow' | 'tools'>): WorstCase {
  return worstCaseTokens(loaded.workflow, (name) => {
    const tool = loaded.tools.get(name);
    return tool && { name: tool.name, description: tool.description, input_schema: toolInputSchema(tool), ...(tool.output ? { output_schema: toolOutputSchema(tool.output) } : {}) };
  });
}

/** Where `budget` is in a YAML or JSON definition file; 1:1 for a module, whose definition has no source positions. */
export async function budgetPosition(file: string): Promise<Position> {
  if (!['.yaml', '.yml', '.json'].includes(extname(file).toLowerCase())) return { line: 1, col: 1 };
  return parseYaml(await readFile(file, 'utf8'), file).locate(['budget']);
}

/** The warning `validate` gives when the worst case is past the budget, at the `budget` field (`at`, see {@link budgetPosition}). */
export function budgetWarning(file: string, bound: WorstCase, at: Position = { line: 1, col: 1 }): DefinitionIssue {
  const worst = bound.steps.slice().sort((a, b) => b.tokens - a.tokens)[0];
  return {
    file,
    ...at,
    path: 'budget',
    message:
      `the worst case is ${bound.bounded ? '' : 'at least '}${bound.tokens} tokens (every model step on the path ${bound.path.join(' → ')} using every visit, attempt and max_tokens), ` +
      `past ${bound.budget.limit} (stopAt ${bound.budget.stopAt} of the ${bound.budget.tokens}-token budget): such a run stops budget_exhausted` +
      (worst
        ? `; the largest share is "${worst.step}" (${worst.visits} visit(s) × ${worst.attempts} attempts, max_tokens ${worst.maxTokens}` +
          `${worst.cacheWriteTokens > 0 ? `, a ${worst.cacheWriteTokens}-token cached prefix written at 1.25× per attempt` : ''})`
        : '') +
      '; raise budget.tokens, or lower retries, maxVisits or maxTokens',
  };
}

/** The bound as `validate` prints it: `2,517 tokens`, or `unbounded (≥ 2,517 tokens) because of <step>: <field>…` when run data has no bound. */
export function boundText(bound: WorstCase): string {
  const tokens = `${thousands(bound.tokens)} tokens`;
  if (bound.bounded) return tokens;
  const shown = bound.unbounded.slice(0, 3).join('; ') + (bound.unbounded.length > 3 ? `; … and ${bound.unbounded.length - 3} more` : '');
  return `unbounded (≥ ${tokens}) because of ${shown}`;
}
