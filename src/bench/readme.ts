/**
 * The README's benchmark table, generated from `bench/results/latest.json`:
 * everything between the two markers is `formatTable` of that file, so the
 * figures a reader sees are the ones the last run wrote (`npm run bench`,
 * then `npm run bench:readme`).
 */
import { StepwiseError } from '../errors.js';
import { formatTable } from './report.js';
import type { BenchResult } from './run.js';

export const BENCH_TABLE_BEGIN = '<!-- bench-table:begin: generated from bench/results/latest.json by `npm run bench:readme`; do not edit -->';
export const BENCH_TABLE_END = '<!-- bench-table:end -->';

/**
 * `readme` with the text between the markers replaced by the table of `result`.
 * @example
 * writeFileSync('README.md', withBenchTable(readFileSync('README.md', 'utf8'), JSON.parse(readFileSync('bench/results/latest.json', 'utf8'))));
 */
export function withBenchTable(readme: string, result: BenchResult): string {
  const begin = readme.indexOf(BENCH_TABLE_BEGIN);
  const end = readme.indexOf(BENCH_TABLE_END);
  if (begin < 0 || end < begin) throw new StepwiseError('usage', `The README has no bench table markers: put ${BENCH_TABLE_BEGIN} and ${BENCH_TABLE_END} where the table goes.`);
  return `${readme.slice(0, begin + BENCH_TABLE_BEGIN.length)}\n\n${formatTable(result)}\n\n${readme.slice(end)}`;
}
