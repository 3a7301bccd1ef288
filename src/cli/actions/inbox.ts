/** `inbox`: the steps of every run waiting for a person, newest first: waits (with their `show` data) and tool inputs under review. */
import { inbox } from '../../query/inbox.js';
import { count } from '../../util/plural.js';
import { withStore } from '../context.js';

export interface InboxFlags {
  store?: string;
  workflow?: string;
  limit: string;
  json?: boolean;
}

/** A value on one line, cut to `max` characters. */
function oneLine(value: unknown, max = 160): string {
  const text = JSON.stringify(value) ?? '';
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

export async function action(opts: InboxFlags): Promise<void> {
  await withStore(opts.store, async (store) => {
    const entries = await inbox(store, { ...(opts.workflow ? { workflow: opts.workflow } : {}), limit: Number(opts.limit) });
    if (opts.json) {
      process.stdout.write(`${JSON.stringify(entries)}\n`);
      return;
    }
    for (const e of entries) {
      process.stdout.write(`${e.runId}  ${e.workflow}  ${e.step} (${e.kind})  since ${e.waitingSinceIso}  accepts ${e.events.join(', ')}\n`);
      if (e.prompt !== undefined) process.stdout.write(`  ${e.prompt}\n`);
      if (e.kind === 'review') process.stdout.write(`  ${e.tool ?? 'tool'} input: ${oneLine(e.proposed)}\n`);
      if (e.show !== undefined) process.stdout.write(`  show: ${oneLine(e.show)}\n`);
    }
    process.stdout.write(`${count(entries.length, 'step')} waiting\n`);
  });
}
