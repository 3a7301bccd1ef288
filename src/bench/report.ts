/**
 * The benchmark's outputs: a Markdown table for stdout and the README, and a
 * hand-written SVG chart (tokens per 5-step workflow and completion by arm,
 * beside the published reference figures).
 */
import type { BenchResult } from './run.js';
import type { Summary } from './stats.js';
import { IN_FLIGHT } from './overhead.js';
import type { PairedRatios } from './head-to-head.js';
import type { PairedRatio } from './rounds.js';
import { formatAblation } from './ablation-report.js';
import { likeWithLike, machineLine, parkedSqliteLine, postgresSection } from './report-sections.js';
import { compositionLines } from './composition-report.js';
import { targetsTable } from './targets.js';

const n = (v: number | null | undefined): string => (v === null || v === undefined ? '—' : v.toLocaleString('en-US'));
const pct = (v: number | null | undefined): string => (v === null || v === undefined ? '—' : `${(v * 100).toFixed(1)} %`);
const range = (s: Summary | null): string => (s ? `${n(s.mean)} (p50 ${n(s.p50)}, p95 ${n(s.p95)}, ${n(s.min)}–${n(s.max)})` : '—');
const failures = (f: Record<string, number> | null): string =>
  f === null ? '—' : Object.keys(f).length === 0 ? 'none' : Object.entries(f).map(([k, v]) => `${k} ${v}`).join(', ');

/** The ratios the targets read, of arms measured in the same rounds: the median and each round's. */
function pairedLines(p: PairedRatios): string[] {
  const rows: Array<[string, PairedRatio | null]> = [
    ['CPU per step, Stepwise memory store / raw limit NORMAL', p.cpuMemoryVsLimitNormal],
    ['steps/s, Stepwise SQLite FULL / raw limit FULL, one run at a time', p.sqliteVsLimitOne],
    [`steps/s, Stepwise SQLite FULL / raw limit FULL, ${IN_FLIGHT} runs in flight`, p.sqliteVsLimitMany],
    ['steps/s, Stepwise SQLite FULL / LangGraph.js sync FULL, one run at a time', p.sqliteVsLanggraphOne],
    [`steps/s, Stepwise SQLite FULL / LangGraph.js sync FULL, ${IN_FLIGHT} runs in flight`, p.sqliteVsLanggraphMany],
  ];
  return [
    'The arms compared in a ratio ran in the same rounds, their passes alternating (the order rotating each round), so both met the same load and fsync latency; the ratio is the median of the rounds\' ratios.',
    '',
    '| paired ratio | median | each round |',
    '| --- | --- | --- |',
    ...rows.filter((row): row is [string, PairedRatio] => row[1] !== null).map(([label, ratio]) => `| ${label} | ${ratio.median}× | ${ratio.rounds.map((v) => v.toFixed(2)).join(', ')} |`),
  ];
}

/** The results as Markdown: the head-to-head, overhead, memory, targets. */
export function formatTable(r: BenchResult): string {
  const { stateless, stepwise, langgraph, limit } = r.arms;
  const lines = [
    `Scenarios: ${r.scenarios} (${Object.entries(r.payloads.stepsPerScenario).map(([k, v]) => `${v}× ${k} steps`).join(', ')}), profile \`${r.profile}\` (flaky = ×${r.flakyCalibration} of the fault mix), seed ${r.seed}.`,
    '',
    '| | stateless (SDK tool runner) | Stepwise | published stateless | published stateful |',
    '| --- | --- | --- | --- | --- |',
    `| completion | ${pct(stateless.completionRate)} | ${pct(stepwise.completionRate)} | 77 % | 94 % |`,
    `| tokens per 5-step workflow, mean (p50, p95, min–max) | ${range(stateless.tokensPer5StepWorkflow)} | ${range(stepwise.tokensPer5StepWorkflow)} | 12,000 (3,000–35,000) | 4,800 |`,
    `| input / output tokens per 5-step workflow (mean) | ${n(stateless.inputTokensPer5StepWorkflow?.mean)} / ${n(stateless.outputTokensPer5StepWorkflow?.mean)} | ${n(stepwise.inputTokensPer5StepWorkflow?.mean)} / ${n(stepwise.outputTokensPer5StepWorkflow?.mean)} | | |`,
    `| tokens per workflow, all sizes (mean, p95) | ${n(stateless.tokensPerWorkflow?.mean)}, ${n(stateless.tokensPerWorkflow?.p95)} | ${n(stepwise.tokensPerWorkflow?.mean)}, ${n(stepwise.tokensPerWorkflow?.p95)} | | |`,
    `| model calls per workflow (mean; HTTP requests incl. retries) | ${n(stateless.modelCallsPerWorkflow?.mean)} (${n(stateless.httpRequestsPerWorkflow?.mean)}) | ${n(stepwise.modelCallsPerWorkflow?.mean)} (${n(stepwise.httpRequestsPerWorkflow?.mean)}) | | |`,
    `| failures | ${failures(stateless.failures)} | ${failures(stepwise.failures)}${stepwise.completed < stepwise.runs ? ` (${stepwise.resumableFailures} resumable)` : ''} | | |`,
    '',
    ...likeWithLike(r),
    '',
    // A result file written before the ablation existed has none.
    ...(r.ablation ? [...formatAblation(r.ablation), ''] : []),
    '| engine overhead, model time zero | steps/s | µs/step | CPU µs/step |',
    '| --- | --- | --- | --- |',
  ];
  const rows: Array<[string, { stepsPerSecond: number; usPerStep: number; cpuUsPerStep?: number } | undefined]> = [
    ['Stepwise, memory store', stepwise.overhead?.['memory']],
    ['Stepwise, SQLite synchronous=FULL (equal durability), one run at a time', stepwise.overhead?.['sqliteFull']],
    [`Stepwise, SQLite synchronous=FULL (equal durability), ${IN_FLIGHT} runs in flight`, stepwise.overhead?.['sqliteFullConcurrent']],
    ['Stepwise, SQLite synchronous=NORMAL', stepwise.overhead?.['sqliteNormal']],
    ['LangGraph.js + SqliteSaver, durability sync, FULL (equal durability), one run at a time', langgraph.overhead?.['syncFull']],
    [`LangGraph.js + SqliteSaver, durability sync, FULL (equal durability), ${IN_FLIGHT} runs in flight`, langgraph.overhead?.['syncFullConcurrent']],
    ['LangGraph.js + SqliteSaver, its defaults (durability async)', langgraph.overhead?.['defaults']],
    ['raw limit, synchronous=FULL (equal durability), one run at a time', limit.overhead?.['sqliteFull']],
    [`raw limit, synchronous=FULL (equal durability), ${IN_FLIGHT} runs in flight (group commit)`, limit.overhead?.['sqliteFullConcurrent']],
    ['raw limit, synchronous=NORMAL', limit.overhead?.['sqliteNormal']],
  ];
  for (const [label, t] of rows) lines.push(`| ${label} | ${t ? n(t.stepsPerSecond) : '—'} | ${t ? n(t.usPerStep) : '—'} | ${t?.cpuUsPerStep !== undefined ? n(t.cpuUsPerStep) : '—'} |`);
  // A result file written before the arms were measured in rounds has none.
  if (r.pairedRatios) lines.push('', ...pairedLines(r.pairedRatios));
  const parked = stepwise.parkedRuns;
  lines.push(
    '',
    parked
      ? `Memory: ${n(parked.runs)} runs parked at a wait step (memory store, ${parked.payloadTokens}-token step result each) add ${parked.heapDeltaMB} MB of heap (${n(parked.bytesPerRun)} bytes per run).`
      : 'Memory: not measured.',
    // A result file written before the prompt-cache figure existed has none.
    ...(r.promptCache
      ? [`Prompt cache: ${r.promptCache.items} items sharing a ${n(r.promptCache.prefixTokens)}-token prefix bill ${n(r.promptCache.billedCached)} input tokens against ${n(r.promptCache.billedUncached)} without caching (${r.promptCache.ratio}×; ${r.promptCache.measure}).`]
      : []),
    ...parkedSqliteLine(r),
    // A result file written before the composition figures existed has none.
    ...(r.composition ? ['', ...compositionLines(r.composition), ''] : []),
    `Payloads: tool results ${range(r.payloads.toolResultTokens)} tokens; documents ${range(r.payloads.documentTokens)} tokens.`,
    '',
    ...postgresSection(r),
    '',
    ...machineLine(r),
    '',
    ...targetsTable(r.targets),
  );
  return lines.join('\n');
}

const escape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

interface Bar {
  readonly label: string;
  readonly value: number;
  readonly min?: number;
  readonly max?: number;
  readonly color: string;
  readonly text: string;
}

function barChart(x: number, title: string, bars: readonly Bar[], top: number): string {
  const width = 360;
  const height = 220;
  const base = 250;
  const slot = width / bars.length;
  const y = (v: number) => base - (v / top) * height;
  const out = [`<text x="${x + width / 2}" y="18" text-anchor="middle" font-size="14" font-weight="bold">${escape(title)}</text>`];
  out.push(`<line x1="${x}" y1="${base}" x2="${x + width}" y2="${base}" stroke="#333"/>`);
  bars.forEach((b, i) => {
    const bx = x + i * slot + slot * 0.2;
    const bw = slot * 0.6;
    out.push(`<rect x="${bx.toFixed(1)}" y="${y(b.value).toFixed(1)}" width="${bw.toFixed(1)}" height="${(base - y(b.value)).toFixed(1)}" fill="${b.color}"/>`);
    if (b.min !== undefined && b.max !== undefined) {
      const cx = (bx + bw / 2).toFixed(1);
      out.push(`<line x1="${cx}" y1="${y(Math.min(b.max, top)).toFixed(1)}" x2="${cx}" y2="${y(b.min).toFixed(1)}" stroke="#111" stroke-width="1.5"/>`);
      out.push(`<line x1="${(bx + bw * 0.3).toFixed(1)}" y1="${y(Math.min(b.max, top)).toFixed(1)}" x2="${(bx + bw * 0.7).toFixed(1)}" y2="${y(Math.min(b.max, top)).toFixed(1)}" stroke="#111"/>`);
      out.push(`<line x1="${(bx + bw * 0.3).toFixed(1)}" y1="${y(b.min).toFixed(1)}" x2="${(bx + bw * 0.7).toFixed(1)}" y2="${y(b.min).toFixed(1)}" stroke="#111"/>`);
    }
    out.push(`<text x="${(bx + bw / 2).toFixed(1)}" y="${(y(b.value) - 4).toFixed(1)}" text-anchor="middle" font-size="11">${escape(b.text)}</text>`);
    b.label.split('\n').forEach((line, j) => {
      out.push(`<text x="${(bx + bw / 2).toFixed(1)}" y="${base + 14 + j * 12}" text-anchor="middle" font-size="10">${escape(line)}</text>`);
    });
  });
  return out.join('\n');
}

/** Tokens per 5-step workflow (mean, min–max whiskers) and completion by arm, with the published figures. */
export function renderSvg(r: BenchResult): string {
  const sl = r.arms.stateless.tokensPer5StepWorkflow;
  const sw = r.arms.stepwise.tokensPer5StepWorkflow;
  const grey = '#b0b0b0';
  const tokenBars: Bar[] = [
    { label: 'stateless\n(measured)', value: sl?.mean ?? 0, ...(sl ? { min: sl.min, max: sl.max } : {}), color: '#d9534f', text: (sl?.mean ?? 0).toLocaleString('en-US') },
    { label: 'Stepwise\n(measured)', value: sw?.mean ?? 0, ...(sw ? { min: sw.min, max: sw.max } : {}), color: '#2e7d32', text: (sw?.mean ?? 0).toLocaleString('en-US') },
    { label: 'stateless\n(published)', value: 12000, min: 3000, max: 35000, color: grey, text: '12,000' },
    { label: 'stateful\n(published)', value: 4800, color: grey, text: '4,800' },
  ];
  const tokenTop = Math.max(...tokenBars.map((b) => b.max ?? b.value)) * 1.1;
  const completionBars: Bar[] = [
    { label: 'stateless\n(measured)', value: r.arms.stateless.completionRate * 100, color: '#d9534f', text: `${(r.arms.stateless.completionRate * 100).toFixed(1)} %` },
    { label: 'Stepwise\n(measured)', value: r.arms.stepwise.completionRate * 100, color: '#2e7d32', text: `${(r.arms.stepwise.completionRate * 100).toFixed(1)} %` },
    { label: 'stateless\n(published)', value: 77, color: grey, text: '77 %' },
    { label: 'stateful\n(published)', value: 94, color: grey, text: '94 %' },
  ];
  return [
    '<svg xmlns="http://www.w3.org/2000/svg" width="800" height="310" viewBox="0 0 800 310" font-family="sans-serif">',
    '<rect width="800" height="310" fill="white"/>',
    barChart(20, 'Tokens per 5-step workflow (mean, min–max)', tokenBars, tokenTop),
    barChart(420, 'Completion rate', completionBars, 110),
    `<text x="400" y="302" text-anchor="middle" font-size="10" fill="#555">stepwise bench: ${r.scenarios} scenarios, profile ${escape(r.profile)}, seed ${r.seed}</text>`,
    '</svg>',
    '',
  ].join('\n');
}
