/**
 * Small CLI helpers: reading `--input`/`--data` values, printing a run (the
 * object the query layer builds), colours that honour NO_COLOR, and exit codes.
 */
import { readFileSync } from 'node:fs';
import { StepwiseError } from '../errors.js';
import type { RunView } from '../engine/view.js';
import { runJson } from '../query/run.js';
import { environmentHasModel } from '../model/defaults.js';
import { isDefaultStore, parseStoreSpec } from '../store/open.js';
import { storeArg, storeSpec } from './store-option.js';

/** Parses a JSON argument, or reads it from a file when it starts with `@` (a byte order mark it starts with is dropped, as for a definition). */
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
    return readFileSync(path, 'utf8').replace(/^\uFEFF/, '');
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

/**
 * Prints a run (its `--json` object, or a description) and returns the exit
 * code it leaves. `storeFlag` is the command's `--store`, which the printed
 * hints repeat.
 */
export function printRun(view: RunView, json: boolean | undefined, storeFlag?: string): number {
  process.stdout.write(json ? `${JSON.stringify(runJson(view))}\n` : `${describeRun(view, storeFlag)}\n`);
  return exitCodeFor(view.status);
}

/**
 * What a printed hint repeats so it runs as printed: the store ({@link storeArg}), and
 * `--emulator` when that store needs a configured model and none is set (the command
 * that printed the hint ran on the emulator; without the flag its hint would be refused).
 */
function hintArgs(storeFlag: string | undefined): string {
  const spec = storeSpec(storeFlag);
  const needsEmulator = spec !== undefined && !isDefaultStore(spec) && parseStoreSpec(spec).kind !== 'memory' && !environmentHasModel();
  return `${storeArg(storeFlag)}${needsEmulator ? ' --emulator' : ''}`;
}

/** The command that runs a redrivable run's failed map items again, runnable as printed (same store, same model choice). */
export function redriveHint(runId: string, storeFlag: string | undefined): string {
  return `re-run the failed items with: stepwise redrive ${runId}${hintArgs(storeFlag)}`;
}

/**
 * Why `resume` refuses a cancelled run, with the command that starts it again instead (a new run from the step it
 * was cancelled at, keeping the outputs before it), runnable as printed.
 */
export function cancelledResumeMessage(runId: string, step: string | null, storeFlag: string | undefined): string {
  const at = step === null ? '' : ` at ${step}`;
  return `run ${runId} was cancelled${at}; a cancelled run cannot be resumed: start a new run from a step, keeping the outputs before it: stepwise rerun ${runId} --from ${step ?? '<step>'}${hintArgs(storeFlag)}`;
}

/** The next command for a run that stopped, runnable as printed (same store, same model choice), or a warning when there is none. */
function nextStep(view: RunView, storeFlag: string | undefined, memory: boolean): string | undefined {
  const store = hintArgs(storeFlag);
  const continues = view.waitingFor !== null || (view.resumable && view.status !== 'running');
  if (continues && memory) {
    return color.yellow(`note: the memory store ends with this process, so this run cannot be ${view.waitingFor ? 'sent events' : 'resumed'} from another one; use the default store or --store sqlite:<path> to keep runs`);
  }
  if (view.waitingFor) return undefined;
  if (view.redrivable) return redriveHint(view.runId, storeFlag);
  if (view.status === 'budget_exhausted') {
    return `resume with a token budget larger than ${view.budget.tokens} (enough for the call above): stepwise resume ${view.runId} --budget <tokens>${store}`;
  }
  if (!view.resumable || !view.failure) return undefined;
  // The same data would fail the same way: change the definition (or start with other input) instead.
  if (view.failure.kind === 'invalid_data') {
    return view.failure.step
      ? `a resume would run ${view.failure.step} on the same data; fix the definition and rerun from that step: stepwise rerun ${view.runId} --from ${view.failure.step} --definition <fixed file>${store}`
      : undefined;
  }
  return `resume with: stepwise resume ${view.runId}${store}`;
}

export function describeRun(view: RunView, storeFlag?: string): string {
  const status =
    view.status === 'done' ? color.green(view.status) : view.status === 'waiting' || view.status === 'running' ? color.yellow(view.status) : color.red(view.status);
  const memory = parseStoreSpec(storeSpec(storeFlag)).kind === 'memory';
  const lines = [`run ${view.runId} (${view.workflow} ${view.version}): ${status}, ${view.usage.totalTokens} tokens`];
  if (view.waitingFor) {
    const waits = view.waits.length > 0 ? view.waits : [view.waitingFor];
    const waiting = `waiting at ${waits.map((w) => `${w.step} for ${w.events.join(' or ')}`).join(', and at ')}`;
    lines.push(memory ? waiting : `${waiting}: stepwise send ${view.runId} <EVENT>${hintArgs(storeFlag)}`);
  }
  if (view.failure) {
    // A cancelled or budget-stopped run says so; "failed at" is for failed runs, with the kind of failure.
    const where = view.status === 'failed' ? `failed at ${view.failure.step ?? '-'} (${view.failure.kind})` : `${view.status} at ${view.failure.step ?? '-'}`;
    lines.push(`${where}: ${view.failure.message}`);
  }
  const next = nextStep(view, storeFlag, memory);
  if (next) lines.push(next);
  if (view.status === 'done') lines.push(`output: ${JSON.stringify(view.output)}`);
  return lines.join('\n');
}
