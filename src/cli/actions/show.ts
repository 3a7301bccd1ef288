/** `show <runId>`: prints the timeline of one run, from the query layer's run detail. */
import { renderTimeline } from '../../observe/timeline.js';
import { showRun } from '../../query/show.js';
import { renderCache } from '../../query/cache.js';
import { color, redriveHint } from '../io.js';
import { withStore } from '../context.js';

export interface ShowFlags {
  store?: string;
  json?: boolean;
}

export async function action(runId: string, opts: ShowFlags): Promise<void> {
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
      ...(run.redrivable ? [redriveHint(run.runId, opts.store)] : []),
      ...(run.waits.length > 0 ? run.waits : run.waitingFor ? [run.waitingFor] : []).map((w) => `waiting at ${w.step} for ${w.events.join(' | ')}`),
      ...run.waitingOn.map((w) => `waiting on child run ${w.runId} (step ${w.step})${w.events.length > 0 ? ` for ${w.events.join(' | ')}` : ''}`),
      ...(run.parent ? [`child of run ${run.parent.runId} (step ${run.parent.step}${run.parent.index !== undefined ? `, item ${run.parent.index}` : ''})`] : []),
      '',
      ...renderTimeline(run.timeline, color),
      ...renderCache(run.cache),
      ...(run.children.length > 0
        ? ['', `children (${run.children.length}):`, ...run.children.map((c) => `  ${c.id}  ${c.workflow}  ${c.status}  step ${c.step}${c.index !== undefined ? ` item ${c.index}` : ''}`)]
        : []),
    ];
    process.stdout.write(`${out.join('\n')}\n`);
  });
}
