/** `list`: prints the runs of a store, newest first, filtered, with totals (each token once, children's in their parents'). */
import { checkStatuses, listRunsWithTotal } from '../../query/list.js';
import { runStatuses as statuses, type RunStatus } from '../../run/types.js';
import { count } from '../../util/plural.js';
import { withStore } from '../context.js';

export interface ListFlags {
  store?: string;
  status?: string[];
  workflow?: string;
  limit: string;
  json?: boolean;
  children?: boolean;
}

function pad(text: string, width: number): string {
  return text.length >= width ? text : text + ' '.repeat(width - text.length);
}

export async function action(opts: ListFlags): Promise<void> {
  checkStatuses(opts.status);
  await withStore(opts.store, async (store) => {
    const { rows, tokens } = await listRunsWithTotal(store, {
      ...(opts.status ? { status: opts.status as RunStatus[] } : {}),
      ...(opts.workflow ? { workflow: opts.workflow } : {}),
      ...(opts.children ? {} : { parentId: null }),
      limit: Number(opts.limit),
    });
    if (opts.json) {
      process.stdout.write(`${JSON.stringify(rows)}\n`);
      return;
    }
    const id = Math.max(38, ...rows.map((r) => r.runId.length + 2));
    const workflow = Math.max(22, ...rows.map((r) => r.workflow.length + 2));
    if (rows.length > 0) process.stdout.write(`${pad('run', id)}${pad('workflow', workflow)}${pad('status', 18)}${pad('tokens', 8)}created\n`);
    for (const r of rows) {
      process.stdout.write(`${pad(r.runId, id)}${pad(r.workflow, workflow)}${pad(r.status, 18)}${pad(String(r.tokens), 8)}${r.createdAtIso}\n`);
    }
    const byStatus = statuses.map((s) => [s, rows.filter((r) => r.status === s).length] as const).filter(([, n]) => n > 0);
    process.stdout.write(`${count(rows.length, 'run')}${byStatus.length ? `: ${byStatus.map(([s, n]) => `${n} ${s}`).join(', ')}` : ''}, ${tokens} tokens\n`);
  });
}
