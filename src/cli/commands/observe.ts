/** The observability commands: `diagram`, `inspect`, `stats`, `test`, `rerun`. */
import type { Command } from 'commander';
import { registerDiagramCommand } from './diagram.js';
import { registerInspectorCommand } from './inspector.js';
import { registerPathsCommand } from './paths.js';
import { registerRerunCommand } from './rerun.js';
import { registerStatsCommand } from './stats.js';

export function registerObserveCommands(program: Command, setExit: (code: number) => void): void {
  registerDiagramCommand(program);
  registerInspectorCommand(program, setExit);
  registerStatsCommand(program);
  registerPathsCommand(program, setExit);
  registerRerunCommand(program, setExit);
}
