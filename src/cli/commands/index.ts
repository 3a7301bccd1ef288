/**
 * Every `stepwise` command, one file each, named after it; registered in the
 * order `stepwise --help` lists them. A command file declares the command's
 * arguments and flags only; its action imports the implementation
 * (src/cli/actions/<name>.ts, which calls the engine or the query layer and
 * prints) when the command runs, so `stepwise --help` and every command start
 * without loading what the others use.
 */
import type { Command } from 'commander';
import { registerBenchCommand } from './bench.js';
import { registerCancelCommand } from './cancel.js';
import { registerDiagramCommand } from './diagram.js';
import { registerEmulatorCommand } from './emulator.js';
import { registerInboxCommand } from './inbox.js';
import { registerInitCommand } from './init.js';
import { registerInspectCommand } from './inspect.js';
import { registerListCommand } from './list.js';
import { registerPruneCommand } from './prune.js';
import { registerRedriveCommand } from './redrive.js';
import { registerRerunCommand } from './rerun.js';
import { registerResumeCommand } from './resume.js';
import { registerRunCommand } from './run.js';
import { registerSchemaCommand } from './schema.js';
import { registerSendCommand } from './send.js';
import { registerServeCommand } from './serve.js';
import { registerShowCommand } from './show.js';
import { registerStatsCommand } from './stats.js';
import { registerTestCommand } from './test.js';
import { registerValidateCommand } from './validate.js';
import { registerWorkerCommand } from './worker.js';

export function registerCommands(program: Command, setExit: (code: number) => void): void {
  registerInitCommand(program);
  registerValidateCommand(program, setExit);
  registerSchemaCommand(program);
  registerRunCommand(program, setExit);
  registerResumeCommand(program, setExit);
  registerRedriveCommand(program, setExit);
  registerSendCommand(program, setExit);
  registerCancelCommand(program, setExit);
  registerInboxCommand(program);
  registerListCommand(program);
  registerShowCommand(program);
  registerDiagramCommand(program);
  registerInspectCommand(program, setExit);
  registerStatsCommand(program);
  registerTestCommand(program, setExit);
  registerRerunCommand(program, setExit);
  registerEmulatorCommand(program);
  registerBenchCommand(program);
  registerWorkerCommand(program, setExit);
  registerPruneCommand(program, setExit);
  registerServeCommand(program, setExit);
}
