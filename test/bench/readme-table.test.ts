import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BENCH_TABLE_BEGIN, BENCH_TABLE_END, withBenchTable } from '../../src/bench/readme.js';
import { root } from '../cli/helpers.js';

describe('README bench table', () => {
  it('is the table of bench/results/latest.json (regenerate with npm run bench:readme)', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const latest = JSON.parse(readFileSync(join(root, 'bench/results/latest.json'), 'utf8'));
    expect(readme).toContain(BENCH_TABLE_BEGIN);
    expect(withBenchTable(readme, latest)).toBe(readme);
  });

  it('rewrites only what is between the markers, and says where the markers go when they are missing', () => {
    const latest = JSON.parse(readFileSync(join(root, 'bench/results/latest.json'), 'utf8'));
    const stale = `# Title\n\nbefore\n${BENCH_TABLE_BEGIN}\nold table\n${BENCH_TABLE_END}\nafter\n`;
    const fresh = withBenchTable(stale, latest);
    expect(fresh.startsWith(`# Title\n\nbefore\n${BENCH_TABLE_BEGIN}\n`)).toBe(true);
    expect(fresh.endsWith(`${BENCH_TABLE_END}\nafter\n`)).toBe(true);
    expect(fresh).not.toContain('old table');
    expect(fresh).toContain('| target | goal | measured | met |');
    expect(withBenchTable(fresh, latest)).toBe(fresh);
    expect(() => withBenchTable('# no markers', latest)).toThrow(/bench-table:begin/);
  });
});
