/**
 * One overhead arm in a process of its own (started by ./remote-arm.ts with the
 * path of an {@link ArmTask} JSON file), so no engine pays for another's
 * garbage, compiled code or heap: measured in one process, Stepwise's memory
 * store cost half as much again per step when LangGraph.js ran between its
 * passes. It makes the arm, prints `"ready"`, then answers each stdin line: `{"pass": n}`
 * runs a pass (n < 0: a warm-up) and prints its {@link PassFigure}, measured here;
 * `{"close": true}` closes the arm, prints `"closed"` and ends.
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { armOf, type ArmTask } from './arm-task.js';
import { measuredPass } from './rounds.js';
import type { Scenario } from './scenarios.js';

const send = (message: unknown) => process.stdout.write(`${JSON.stringify(message)}\n`);

async function serve(): Promise<void> {
  const task = JSON.parse(readFileSync(process.argv[2] ?? '', 'utf8')) as ArmTask;
  const scenarios = JSON.parse(readFileSync(task.scenariosFile, 'utf8')) as Scenario[];
  const arm = await armOf(task, scenarios);
  send('ready');
  for await (const line of createInterface({ input: process.stdin })) {
    const message = JSON.parse(line) as { pass?: number; close?: boolean };
    if (message.close) break;
    if (typeof message.pass !== 'number') throw new Error(`unknown message ${line}`);
    send(await measuredPass(arm, message.pass));
  }
  await arm.close();
  send('closed');
}

serve().catch((error: unknown) => {
  send({ error: error instanceof Error ? error.message : String(error) });
  process.exitCode = 1;
  process.stdin.destroy();
});
