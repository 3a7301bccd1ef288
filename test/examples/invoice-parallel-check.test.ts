/**
 * The invoice-parallel-check example: `stepwise run` on the emulator (the
 * built CLI), then its routes through the engine on a real SQLite file: the
 * vendor and budget checks run side by side, a blocked vendor is rejected, an
 * unknown vendor's failed branch is collected and sent to a person, and an
 * invoice the budget cannot take waits for the CFO. Its diagram draws the
 * branches as regions.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { harness, inputOf, load, type Harness } from '../engine/helpers.js';
import { cli, tempStore } from '../observe/cli.js';
import { rerun } from '../../src/engine/rerun.js';

const example = 'invoice-parallel-check.yaml';
const document = (vendorId: string, total: string) =>
  (inputOf(example) as { document: string }).document.replace('V-1001', vendorId).replace('Total: 12,500.00', `Total: ${total}`);

let h: Harness;
beforeAll(async () => (h = await harness()));
afterAll(() => h.close());

describe('invoice-parallel-check', () => {
  it('runs with `stepwise run` on the emulator: both checks side by side, then paid', async () => {
    const result = await cli(['run', `definitions/${example}`, '--store', tempStore(), '--emulator', '--json', '--input', `@definitions/invoice-parallel-check.input.json`]);
    expect(result.code, result.stderr).toBe(0);
    const run = JSON.parse(result.stdout.trim().split('\n').pop()!) as { status: string; output: { decision: string; checks: Record<string, unknown> } };
    expect(run.status).toBe('done');
    expect(run.output.decision).toBe('approved');
    expect(run.output.checks).toMatchObject({ vendor: { vendorId: 'V-1001', status: 'active' }, budget: { note: expect.any(String) } });
  });

  it('`stepwise test` walks its paths through the real engine, branch steps included', async () => {
    const result = await cli(['test', `definitions/${example}`, '--input', `@definitions/invoice-parallel-check.input.json`]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/invoice-parallel-check: \d+ paths, 12 of 12 steps reachable/);
    expect(result.stdout).toContain('extract → vendor_lookup → budget_lookup → budget_note → route [branch 3] → pay → done: done');
    expect(result.stdout).toContain('no problems found');
  });

  it('routes on both branches: blocked vendor, unknown vendor (collected error), over budget', async () => {
    const engine = h.engine();
    const definition = await load(example);
    const blocked = await engine.start(definition, { input: { document: document('V-6666', '900.00') } });
    expect(blocked.output).toMatchObject({ decision: 'rejected', checks: { vendor: { status: 'blocked' } } });

    const unknown = await engine.start(definition, { input: { document: document('V-4040', '900.00') } });
    expect(unknown.status).toBe('waiting');
    expect(unknown.waitingFor?.step).toBe('manual_review');
    const collected = unknown.steps.find((s) => s.id === 'vendor_lookup');
    expect(collected?.status).toBe('failed');
    const approved = await engine.send(unknown.runId, 'APPROVE', { by: 'ops' });
    expect(approved.output).toMatchObject({
      decision: 'approved',
      checks: { vendor: { error: { step: 'vendor_lookup', kind: 'tool_error', message: expect.stringMatching(/not in the ERP/) } } },
    });

    const large = await engine.start(definition, { input: { document: document('V-1001', '52,500.00') } });
    expect(large.status).toBe('waiting');
    expect(large.waitingFor?.step).toBe('cfo_approval');

    // Rerun from the step after the parallel one: the branches' results are kept, not run again.
    const again = await rerun(engine, large.runId, 'route');
    expect(again.status).toBe('waiting');
    expect(again.waitingFor?.step).toBe('cfo_approval');
    expect(again.steps.map((s) => s.id).slice(0, 5).sort()).toEqual(['budget_lookup', 'budget_note', 'checks', 'extract', 'vendor_lookup']);
    expect(again.usage.totalTokens).toBe(large.usage.totalTokens);
    // Show: the timeline lists the branch steps and the parallel step.
    const shown = await cli(['show', large.runId, '--store', `sqlite:${h.dbPath}`]);
    expect(shown.code, shown.stderr).toBe(0);
    for (const step of ['checks', 'vendor_lookup', 'budget_lookup', 'budget_note']) expect(shown.stdout).toContain(step);
  });
});
