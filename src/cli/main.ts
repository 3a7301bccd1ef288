#!/usr/bin/env node
/** The `stepwise` command. */
import { Command } from 'commander';
import { StepwiseError } from '../errors.js';
import { registerDefinitionCommands } from './commands/definitions.js';
import { registerBenchCommand } from './commands/bench.js';
import { registerEmulatorCommand } from './commands/emulator.js';
import { registerInspectCommands } from './commands/inspect.js';
import { registerObserveCommands } from './commands/observe.js';
import { registerRunCommands } from './commands/runs.js';
import { registerWorkerCommands } from './commands/worker.js';
import { redactSecrets } from '../util/redact.js';

let exitCode = 0;
const setExit = (code: number) => {
  exitCode = code;
};

const program = new Command()
  .name('stepwise')
  .description('Declarative workflows for Claude tool use: XState machines, token budgets, durable runs.')
  .showHelpAfterError();

registerDefinitionCommands(program, setExit);
registerRunCommands(program, setExit);
registerInspectCommands(program);
registerObserveCommands(program, setExit);
registerEmulatorCommand(program);
registerBenchCommand(program);
registerWorkerCommands(program, setExit);

try {
  await program.parseAsync(process.argv);
  process.exitCode = exitCode;
} catch (error) {
  // Messages may name a store URL: never print its password.
  if (error instanceof StepwiseError) {
    process.stderr.write(`stepwise: ${redactSecrets(error.message)}\n`);
  } else {
    process.stderr.write(`stepwise: ${redactSecrets(error instanceof Error ? (error.stack ?? error.message) : String(error))}\n`);
  }
  process.exitCode = 1;
}
