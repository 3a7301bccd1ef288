/**
 * `worker`: work runs from a shared store with leases until told to stop
 * (SIGTERM/SIGINT drain: steps in flight finish and commit, leases are
 * released).
 */
import type { Command } from 'commander';
import type { WorkerFlags } from '../actions/worker.js';
import { modelServerFlags } from '../flags.js';

export function registerWorkerCommand(program: Command, setExit: (code: number) => void): void {
  modelServerFlags(
    program
      .command('worker')
      .description('work runs from a shared store (e.g. PostgreSQL) with leases until SIGTERM, or until idle with --exit-when-idle')
      .option('--store <spec>', 'memory | sqlite:<path> | postgres:<url> | postgres://… (default sqlite:.stepwise/stepwise.db)')
      .option('--concurrency <n>', 'runs driven at once', '4')
      .option('--exit-when-idle', 'exit once no run is runnable, in flight, or in a backoff')
      .option('--lease <duration>', 'lease length; a dead worker\'s runs are taken over after it', '30s')
      .option('--poll <duration>', 'pause between claims when nothing is runnable', '250ms')
      .option('--rpm <n>', 'model requests per minute, shared by every worker on the store')
      .option('--tpm <n>', 'model tokens per minute, shared by every worker on the store'),
  ).action(async (opts: WorkerFlags) => (await import('../actions/worker.js')).action(opts, setExit));
}
