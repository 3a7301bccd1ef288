/** `send <runId> <event>`: deliver an event (e.g. APPROVE) to a waiting run and drive it on. */
import type { Command } from 'commander';
import { findRun } from '../../query/run.js';
import { printRun, readJsonArg } from '../io.js';
import { withEngine, withStore, type CommonOptions } from '../context.js';
import { runFlags, serverOptions } from '../run-options.js';

export function registerSendCommand(program: Command, setExit: (code: number) => void): void {
  runFlags(program.command('send <runId> <event>').description('deliver an event (e.g. APPROVE) to a waiting run'))
    .option('--data <json|@file>', 'data carried by the event ($event.data)')
    .option('--step <id>', 'the waiting step the event is for, when several wait at once (parallel branches)')
    .action(async (runId: string, event: string, opts: CommonOptions & { data?: string; step?: string }) => {
      const data = readJsonArg(opts.data, '--data');
      await withStore(opts.store, async (store) => {
        const record = await findRun(store, runId);
        await withEngine(store, serverOptions(opts, record.options), false, async (engine) => {
          setExit(printRun(await engine.send(record.id, event, data, opts.step !== undefined ? { step: opts.step } : {}), opts.json, opts.store));
        });
      });
    });
}
