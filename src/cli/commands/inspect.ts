/** `list` and `show`: what is in a store, and the timeline of one run. */
import type { Command } from 'commander';
import { RunNotFoundError, StepwiseError } from '../../errors.js';
import { toView } from '../../engine/view.js';
import { runStatuses as statuses, type RunStatus } from '../../run/types.js';
import { color, runJson } from '../io.js';
import { buildTimeline, renderTimeline } from '../../observe/timeline.js';
import { withStore } from '../context.js';


function pad(text: string, width: number): string {
  return text.length >= width ? text : text + ' '.repeat(width - text.length);
}


export function registerInspectCommands(program: Command): void {
  program
    .command('list')
    .description('list runs, newest first')
    .option('--store <spec>', 'store spec')
    .option('--status <status...>', `only these statuses (${statuses.join(', ')})`)
    .option('--workflow <id>', 'only runs of this workflow')
    .option('--limit <n>', 'at most n runs', '100')
    .option('--json', 'print one JSON array')
    .action(async (opts: { store?: string; status?: string[]; workflow?: string; limit: string; json?: boolean }) => {
      const unknown = (opts.status ?? []).filter((s) => !statuses.includes(s as RunStatus));
      if (unknown.length) throw new StepwiseError('usage', `Unknown status ${unknown.join(', ')}: use ${statuses.join(', ')}.`);
      await withStore(opts.store, async (store) => {
        const runs = await store.list({
          ...(opts.status ? { status: opts.status as RunStatus[] } : {}),
          ...(opts.workflow ? { workflow: opts.workflow } : {}),
          limit: Number(opts.limit),
        });
        const rows = runs.map((r) => ({
          runId: r.id,
          workflow: r.workflow,
          status: r.status,
          version: r.version,
          tokens: r.usage.totalTokens,
          failure: r.failure,
          createdAt: r.createdAt,
          updatedAt: r.updatedAt,
        }));
        if (opts.json) {
          process.stdout.write(`${JSON.stringify(rows)}\n`);
          return;
        }
        for (const r of rows) {
          process.stdout.write(`${pad(r.runId, 38)}${pad(r.workflow, 22)}${pad(r.status, 18)}${pad(String(r.tokens), 8)}${new Date(r.createdAt).toISOString()}\n`);
        }
        const byStatus = statuses.map((s) => [s, rows.filter((r) => r.status === s).length] as const).filter(([, n]) => n > 0);
        process.stdout.write(`${rows.length} runs${byStatus.length ? `: ${byStatus.map(([s, n]) => `${n} ${s}`).join(', ')}` : ''}, ${rows.reduce((t, r) => t + r.tokens, 0)} tokens\n`);
      });
    });

  program
    .command('show <runId>')
    .description('the timeline of one run: steps, attempts, tokens, latency, errors')
    .option('--store <spec>', 'store spec')
    .option('--json', 'print the run object plus its journal')
    .action(async (runId: string, opts: { store?: string; json?: boolean }) => {
      await withStore(opts.store, async (store) => {
        const record = await store.get(runId);
        if (!record) throw new RunNotFoundError(runId);
        const journal = await store.journal(runId);
        const view = toView(record);
        if (opts.json) {
          process.stdout.write(`${JSON.stringify({ ...runJson(view), definition: { version: record.version, source: record.definition.source }, timeline: buildTimeline(journal, record.failure), journal })}\n`);
          return;
        }
        const out = [
          `run ${view.runId}  workflow ${view.workflow}  version ${view.version}${record.definition.source ? ` (${record.definition.source})` : ''}`,
          `status ${view.status}${view.resumable ? ' (resumable)' : ''}  tokens ${view.usage.inputTokens} in / ${view.usage.outputTokens} out = ${view.usage.totalTokens} of ${view.budget.tokens}  cost $${view.usage.usd.toFixed(4)}`,
          ...(view.failure ? [color.red(`failure: ${view.failure.kind} at ${view.failure.step ?? '-'}: ${view.failure.message}`)] : []),
          ...(view.waitingFor ? [`waiting at ${view.waitingFor.step} for ${view.waitingFor.events.join(' | ')}`] : []),
          '',
          ...renderTimeline(buildTimeline(journal, record.failure), color),
        ];
        process.stdout.write(`${out.join('\n')}\n`);
      });
    });
}
