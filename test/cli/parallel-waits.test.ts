/**
 * A run whose branches wait at once names every wait: `waits` beside `waitingFor` (which stays the first, as
 * documented), each with its events and timeout, and the printed summary names each step (an outside tester saw
 * only the first branch's wait; the other's timeout was nowhere in the run object).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SPAWN_BUDGET_MS } from '../budgets.js';
import { cli, lastJson, tempDir, tempStore } from './helpers.js';

const definition = [
  'id: two-waits',
  'steps:',
  '  p:',
  '    parallel:',
  '      branches:',
  '        legal:',
  '          steps:',
  '            legal_ok: { wait: { on: { APPROVE: legal_done, REJECT: legal_done } } }',
  '            legal_done: { analyze: { prompt: Say ok., schema: { type: object }, maxTokens: 50 } }',
  '        finance:',
  '          steps:',
  '            fin_ok: { wait: { on: { SIGN: fin_done }, timeout: 1h, onTimeout: fin_done } }',
  '            fin_done: { analyze: { prompt: Say ok., schema: { type: object }, maxTokens: 50 } }',
  '    next: done',
  '  done: { final: true }',
  '',
].join('\n');

interface Wait {
  step: string;
  events: string[];
  timeoutAt: number | null;
  timeoutAtIso: string | null;
}

describe('parallel waits', { timeout: SPAWN_BUDGET_MS }, () => {
  it('are all in the run object and the summary', async () => {
    const file = join(tempDir(), 'two-waits.yaml');
    writeFileSync(file, definition);
    const ran = await cli(['run', file, ...tempStore(), '--emulator', '--json']);
    expect(ran.code).toBe(0);
    const run = lastJson<{ status: string; waitingFor: Wait | null; waits: Wait[] }>(ran.stdout);
    expect(run.status).toBe('waiting');
    expect(run.waits.map((w) => [w.step, w.events])).toEqual([
      ['legal_ok', ['APPROVE', 'REJECT']],
      ['fin_ok', ['SIGN']],
    ]);
    expect(run.waits[0]!.timeoutAt).toBeNull();
    expect(run.waits[1]!.timeoutAt).toEqual(expect.any(Number));
    expect(run.waits[1]!.timeoutAtIso).toEqual(new Date(run.waits[1]!.timeoutAt!).toISOString());
    expect(run.waitingFor).toEqual(run.waits[0]);

    const printed = await cli(['run', file, ...tempStore(), '--emulator']);
    expect(printed.stdout + printed.stderr).toMatch(/waiting at legal_ok for APPROVE or REJECT, and at fin_ok for SIGN/);
  });
});
