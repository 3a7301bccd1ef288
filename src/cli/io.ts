/**
 * Small CLI helpers: reading `--input`/`--data` values, printing a run (the
 * object the query layer builds), colours that honour NO_COLOR, and exit codes.
 */
import { readFileSync } from 'node:fs';
import { StepwiseError } from '../errors.js';
import type { RunView } from '../engine/view.js';
import { runJson } from '../query/run.js';

/** Parses a JSON argument, or reads it from a file when it starts with `@`. */
export function readJsonArg(value: string | undefined, flag: string): unknown {
  if (value === undefined) return undefined;
  const text = value.startsWith('@') ? readFile(value.slice(1), flag) : value;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new StepwiseError('usage', `${flag} is not valid JSON${value.startsWith('@') ? ` (in ${value.slice(1)})` : ''}: ${(error as Error).message}`);
  }
}

function readFile(path: string, flag: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new StepwiseError('usage', `${flag}: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

export function parseIntArg(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new StepwiseError('usage', `${flag} must be a whole number, got "${value}"`);
  return n;
}

const useColor = () => !process.env['NO_COLOR'] && process.stderr.isTTY === true;
const paint = (code: number) => (text: string) => (useColor() ? `\u001b[${code}m${text}\u001b[0m` : text);
export const color = { red: paint(31), green: paint(32), yellow: paint(33), dim: paint(2), bold: paint(1) };

/** Exit code of a command that leaves a run in `status`. */
export function exitCodeFor(status: RunView['status']): number {
  return status === 'done' || status === 'waiting' || status === 'running' ? 0 : 1;
}

/** Prints a run (its `--json` object, or a description) and returns the exit code it leaves. */
export function printRun(view: RunView, json: boolean | undefined): number {
  process.stdout.write(json ? `${JSON.stringify(runJson(view))}\n` : `${describeRun(view)}\n`);
  return exitCodeFor(view.status);
}

export function describeRun(view: RunView): string {
  const status =
    view.status === 'done' ? color.green(view.status) : view.status === 'waiting' || view.status === 'running' ? color.yellow(view.status) : color.red(view.status);
  const lines = [`run ${view.runId} (${view.workflow} ${view.version}): ${status}, ${view.usage.totalTokens} tokens`];
  if (view.waitingFor) lines.push(`waiting at ${view.waitingFor.step} for ${view.waitingFor.events.join(' or ')}: stepwise send ${view.runId} <EVENT>`);
  if (view.failure) lines.push(`failed at ${view.failure.step ?? '-'} (${view.failure.kind}): ${view.failure.message}${view.resumable ? `\nresume with: stepwise resume ${view.runId}` : ''}`);
  if (view.status === 'done') lines.push(`output: ${JSON.stringify(view.output)}`);
  return lines.join('\n');
}
