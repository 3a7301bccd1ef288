/**
 * The parent's side of ./arm-process.ts: starts an arm in a process of its own
 * (run from the built `dist/`) and drives it one pass at a time, as a
 * {@link MeasuredArm} whose passes report the figures the process measured.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { packageRoot } from '../util/package-root.js';
import type { ArmTask } from './arm-task.js';
import type { MeasuredArm, PassFigure } from './rounds.js';

/** The built process entry. */
const entry = join(packageRoot, 'dist', 'bench', 'arm-process.js');

/**
 * Starts the arm `taskFile` (an {@link ArmTask} as JSON) describes and resolves once it is made. A process that
 * fails (its task is broken, a pass throws) rejects the call waiting on it with its error.
 * @example
 * const arm = await spawnArm(file);
 * const figure = await arm.pass(0); // { steps, ms, cpuMs }
 * await arm.close();
 */
export async function spawnArm(taskFile: string): Promise<MeasuredArm & { pass(pass: number): Promise<PassFigure> }> {
  const child = spawn(process.execPath, [entry, taskFile], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => void (stderr = (stderr + chunk.toString()).slice(-2000)));
  /** Waiters for the process's next line, in order; a line that names an error, or the process's end, rejects them all. */
  const waiting: Array<{ resolve: (line: unknown) => void; reject: (error: Error) => void }> = [];
  let ended: Error | null = null;
  const fail = (error: Error) => {
    ended ??= error;
    for (const w of waiting.splice(0)) w.reject(ended);
  };
  createInterface({ input: child.stdout }).on('line', (line) => {
    let message: unknown;
    try {
      message = JSON.parse(line);
    } catch {
      return; // not the protocol's (a library's console output)
    }
    if (typeof message === 'object' && message !== null && 'error' in message) return fail(new Error(`overhead arm process (${taskFile}): ${String(message.error)}`));
    waiting.shift()?.resolve(message);
  });
  child.on('error', (error) => fail(error));
  child.on('close', (code) => fail(new Error(`overhead arm process (${taskFile}) exited ${code}${stderr.trim() ? `: ${stderr.trim()}` : ''}`)));
  const next = () =>
    new Promise<unknown>((resolve, reject) => {
      if (ended) return reject(ended);
      waiting.push({ resolve, reject });
    });
  const ask = (message: unknown) => {
    const answer = next();
    child.stdin.write(`${JSON.stringify(message)}\n`);
    return answer;
  };
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  try {
    const ready = await next();
    if (ready !== 'ready') throw new Error(`overhead arm process (${taskFile}) said ${JSON.stringify(ready)} before it was ready`);
  } catch (error) {
    child.kill();
    throw error;
  }
  return {
    pass: async (pass) => (await ask({ pass })) as PassFigure,
    close: async () => {
      if (!ended) await ask({ close: true }).catch(() => undefined);
      child.stdin.end();
      await exited;
    },
  };
}
