/**
 * `validate <files...>`: checks definitions, and the definition files their `workflow` steps name, prints each one's
 * worst-case tokens and warns past its budget.
 */
import { dirname, relative, resolve } from 'node:path';
import { childFiles } from '../../definition/child-files.js';
import { stepIds } from '../../definition/sequences.js';
import { loadDefinition } from '../../definition/load.js';
import { DefinitionError, formatIssue } from '../../errors.js';
import { color } from '../io.js';
import { boundText, budgetPosition, budgetWarning, worstCaseOf } from '../worst-case.js';
import { thousands } from '../../util/thousands.js';

export interface ValidateFlags {
  json?: boolean;
}

export async function action(files: string[], opts: ValidateFlags, setExit: (code: number) => void): Promise<void> {
  const results: Array<Record<string, unknown>> = [];
  let failed = false;
  // The definition files `workflow` steps name are checked too, each once, after the files given.
  const queue = [...files];
  const seen = new Set(files.map((file) => resolve(file)));
  for (let next = 0; next < queue.length; next++) {
    const file = queue[next]!;
    try {
      const loaded = await loadDefinition(file);
      for (const child of childFiles(loaded.workflow.steps as Readonly<Record<string, object>>)) {
        const target = resolve(dirname(resolve(file)), child.file);
        if (seen.has(target)) continue;
        seen.add(target);
        queue.push(relative(process.cwd(), target) || target);
      }
      const steps = stepIds(loaded.workflow).length;
      const bound = worstCaseOf(loaded);
      const warnings = bound.exceedsBudget ? [...loaded.warnings, budgetWarning(file, bound, await budgetPosition(file))] : loaded.warnings;
      results.push({ file, valid: true, workflow: loaded.workflow.id, version: loaded.hash, steps, worstCase: bound, warnings });
      if (!opts.json) {
        for (const w of warnings) process.stderr.write(`${color.yellow('warning')} ${formatIssue(w)}\n`);
        process.stdout.write(
          `${color.green('ok')} ${file}: ${loaded.workflow.id} (${steps} steps, version ${loaded.hash}; worst case ${boundText(bound)}, budget ${thousands(bound.budget.tokens)})\n`,
        );
      }
    } catch (error) {
      if (!(error instanceof DefinitionError)) throw error;
      failed = true;
      results.push({ file, valid: false, issues: error.issues });
      if (!opts.json) for (const issue of error.issues) process.stdout.write(`${formatIssue(issue)}\n`);
    }
  }
  if (opts.json) process.stdout.write(`${JSON.stringify(results)}\n`);
  setExit(failed ? 1 : 0);
}
