/** `run <file>`: start a run of a definition and drive it until it waits, finishes or fails. */
import type { Command } from 'commander';
import type { RunFlags } from '../actions/run.js';
import { runFlags } from '../flags.js';

export function registerRunCommand(program: Command, setExit: (code: number) => void): void {
  runFlags(program.command('run <file>').description('start a run of a definition and drive it until it waits, finishes or fails'))
    .option('--input <json|@file>', 'the run input')
    .option('--budget <tokens>', 'total token budget of the run')
    .option('--id <runId>', 'run id to use; an id a run of this workflow has shows that run, of another workflow is an error')
    .option('--detach', 'only enqueue the run, for workers to drive')
    .action(async (file: string, opts: RunFlags) => (await import('../actions/run.js')).action(file, opts, setExit));
}
