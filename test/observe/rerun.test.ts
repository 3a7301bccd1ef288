import { describe, expect, it } from 'vitest';
import { SPAWN_BUDGET_MS } from '../budgets.js';
import { cli, lastJson, tempStore } from './cli.js';

interface RunJson {
  runId: string;
  status: string;
  output: { lead: { company: string; crmId: string } };
  steps: Array<{ id: string; status: string }>;
}

describe('stepwise rerun', { timeout: SPAWN_BUDGET_MS }, () => {
  it('starts a new run from a step, keeping the outputs of the steps before it', async () => {
    const store = tempStore();
    const lead = ['definitions/lead-enrichment.ts', '--input', '@definitions/lead-enrichment.input.json'];
    const original = lastJson<RunJson>((await cli(['run', ...lead, '--store', store, '--json'])).stdout);
    expect(original.status).toBe('done');

    const result = await cli(['rerun', original.runId, '--from', 'score', '--store', store, '--json']);
    expect(result.code, result.stderr).toBe(0);
    const again = lastJson<RunJson>(result.stdout);
    expect(again.runId).not.toBe(original.runId);
    expect(again.status).toBe('done');
    expect(again.output.lead.company).toBe('Example Corp');
    expect(again.steps.map((s) => s.id)).toEqual(['company', 'score', 'save', 'done']);

    const shown = lastJson<{ timeline: { rows: Array<{ step: string | null; event: string; detail: string }> } }>(
      (await cli(['show', again.runId, '--store', store, '--json'])).stdout,
    );
    const rows = shown.timeline.rows;
    expect(rows[0]!.detail).toBe(`rerun of ${original.runId} from score`);
    expect(rows.filter((r) => r.step === 'company')).toEqual([]); // kept, not run again
    expect(rows.filter((r) => r.event === 'completed').map((r) => r.step)).toEqual(['score', 'save']);

    const bad = await cli(['rerun', original.runId, '--from', 'nope', '--store', store]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('no step "nope"');
  });
});
