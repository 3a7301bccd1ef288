/**
 * Every `stepwise` command, one file each, named after it; registered in the
 * order `stepwise --help` lists them. A command parses its arguments, calls
 * the engine or the query layer (src/query) and prints.
 */
import type { Command } from 'commander';
import { registerBenchCommand } from './bench.js';
import { registerCancelCommand } from './cancel.js';
import { registerDiagramCommand } from './diagram.js';
import { registerEmulatorCommand } from './emulator.js';
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
