/** `show <runId>`: the timeline of one run (steps, attempts, tokens, latency, errors); `--json` prints the query layer's run detail. */
import type { Command } from 'commander';
import { renderTimeline } from '../../observe/timeline.js';
import { showRun } from '../../query/show.js';
import { color } from '../io.js';
import { withStore } from '../context.js';

export function registerShowCommand(program: Command): void {
  program
    .command('show <runId>')
    .description('the timeline of one run: steps, attempts, tokens, latency, errors')
    .option('--store <spec>', 'store spec')
    .option('--json', 'print the run object plus its journal')
    .action(async (runId: string, opts: { store?: string; json?: boolean }) => {
      await withStore(opts.store, async (store) => {
        const run = await showRun(store, runId);
        if (opts.json) {
          process.stdout.write(`${JSON.stringify(run)}\n`);
          return;
        }
        const out = [
          `run ${run.runId}  workflow ${run.workflow}  version ${run.version}${run.definition.source ? ` (${run.definition.source})` : ''}`,
          `status ${run.status}${run.resumable ? ' (resumable)' : ''}  tokens ${run.usage.inputTokens} in / ${run.usage.outputTokens} out = ${run.usage.totalTokens} of ${run.budget.tokens}  cost $${run.usage.usd.toFixed(4)}`,
          ...(run.failure ? [color.red(`failure: ${run.failure.kind} at ${run.failure.step ?? '-'}: ${run.failure.message}`)] : []),
          ...(run.waitingFor ? [`waiting at ${run.waitingFor.step} for ${run.waitingFor.events.join(' | ')}`] : []),
          ...(run.parent ? [`child of run ${run.parent.runId} (step ${run.parent.step}${run.parent.index !== undefined ? `, item ${run.parent.index}` : ''})`] : []),
          '',
          ...renderTimeline(run.timeline, color),
          ...(run.children.length > 0
            ? ['', `children (${run.children.length}):`, ...run.children.map((c) => `  ${c.id}  ${c.workflow}  ${c.status}  step ${c.step}${c.index !== undefined ? ` item ${c.index}` : ''}`)]
            : []),
        ];
        process.stdout.write(`${out.join('\n')}\n`);
      });
    });
}
