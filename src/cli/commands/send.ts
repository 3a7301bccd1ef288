/** `send <runId> <event>`: deliver an event (e.g. APPROVE) to a waiting run and drive it on. */
import type { Command } from 'commander';
import type { SendFlags } from '../actions/send.js';
import { runFlags } from '../flags.js';

export function registerSendCommand(program: Command, setExit: (code: number) => void): void {
  runFlags(program.command('send <runId> <event>').description('deliver an event (e.g. APPROVE) to a waiting run'))
    .option('--data <json|@file>', 'data carried by the event ($event.data; APPROVE of a review: {"input": {...}} edits the tool input)')
    .option('--step <id>', 'the step meant, when several waiting steps accept the event')
    .action(async (runId: string, event: string, opts: SendFlags) => (await import('../actions/send.js')).action(runId, event, opts, setExit));
}
