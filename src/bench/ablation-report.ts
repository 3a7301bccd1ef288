/** The ablation (src/bench/ablation.ts) as Markdown, for the bench report and the README table. */
import type { Ablation, VariantResult } from './ablation.js';

const n = (v: number | null | undefined): string => (v === null || v === undefined ? '—' : v.toLocaleString('en-US'));
const pct = (v: number): string => `${(v * 100).toFixed(1)} %`;
const failures = (f: Record<string, number>): string => (Object.keys(f).length === 0 ? 'none' : Object.entries(f).map(([k, v]) => `${k} ${v}`).join(', '));

function row(label: string, v: VariantResult): string {
  const t = v.tokensPer5StepWorkflow;
  const tokens = t ? `${n(t.mean)} (${n(t.min)}–${n(t.max)}, ${v.maxMin ?? '—'}×)` : '—';
  return `| ${label} | ${pct(v.completionRate)} | ${tokens} | ${n(v.attemptsPerWorkflow?.mean)} (${n(v.attemptsPerWorkflow?.max)}) | ${failures(v.failures)} |`;
}

/**
 * The ablation's lines: one table of variants, then the budget and bound checks.
 * @example
 * formatAblation(await ablationBenchmark({ scenarios: 40 })).join('\n');
 */
export function formatAblation(a: Ablation): string[] {
  const f = a.toolErrorFeedback;
  const c = a.calibration;
  const w = a.worstCase;
  return [
    `Effect of each issue-16 item, all-claude arm: the first ${a.scenarios} scenarios, profile \`${a.profile}\`, seed ${a.seed}, each variant on its own memory store (load average ${a.machine.loadAverage1m} on ${a.machine.cpus} CPUs at the start, ${a.durationSeconds} s).`,
    '',
    '| variant | completion | tokens per 5-step workflow, mean (min–max, max/min) | model-step attempts per workflow, mean (max) | failures |',
    '| --- | --- | --- | --- | --- |',
    row(`(1) tool errors fed back (default); ${f.staleIdScenarios} of ${a.scenarios} documents also carry a stale id the tool rejects`, f.feedbackOn),
    row(`(1) tool errors not retried (\`retryOn: ${JSON.stringify(f.off.retryOn)}\`), same documents`, f.feedbackOff),
    row('(2) `summary: outputs` (default)', a.summary.outputs),
    row('(2) `summary: ids`', a.summary.ids),
    row('(2) `summary: none`', a.summary.none),
    row(`(3) server counting ×${c.tokenScale}, budget ${n(c.budgetTokensPerStep)} tokens per step, stopAt ${c.stopAt}, max_tokens ${c.maxTokens}`, c),
    '',
    `(3) Runs whose billed tokens passed stopAt × budget: ${c.overspent} of ${c.runs}; stopped \`budget_exhausted\`: ${c.budgetExhausted}; the highest spend was ${c.maxSpendOfLimit} of the limit.`,
    `(4) \`validate\`'s worst-case bound ≥ billed tokens in ${w.withinBound} of ${w.runs} runs (every run of (1) and (2); ${w.unboundedDefinitions} unbounded definitions); billed ÷ bound mean ${w.tightness?.mean ?? '—'}, max ${w.tightness?.max ?? '—'} (the largest run billed ${n(w.maxBilled)} tokens against a bound of ${n(w.boundOfMaxBilled)}).`,
  ];
}
