/** "Did you mean" for a misspelt fault name, event name, `rerun --from` step id, and a variable or function of an expression. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SPAWN_BUDGET_MS } from '../budgets.js';
import { cli, example, lastJson, tempDir, tempStore, type RunJson } from './helpers.js';

describe('did you mean', { timeout: SPAWN_BUDGET_MS }, () => {
  it('suggests the fault, event or step meant, and changes nothing', async () => {
    const store = [...tempStore(), '--emulator'];
    const fault = await cli(['run', ...example('invoice-approval.yaml'), ...store, '--faults', 'rate_limt=0.1']);
    expect(fault.code).toBe(1);
    expect(fault.stderr).toContain('Unknown fault "rate_limt" in "rate_limt=0.1". Did you mean rate_limit?');
    const profile = await cli(['run', ...example('invoice-approval.yaml'), ...store, '--faults', 'flakey']);
    expect(profile.stderr).toContain('Did you mean flaky?');

    const started = await cli(['run', ...example('invoice-approval.yaml'), ...store, '--json']);
    const run = lastJson<RunJson>(started.stdout);
    expect(run.status).toBe('waiting');
    const event = await cli(['send', run.runId, 'approve', ...store]);
    expect(event.code).toBe(1);
    expect(event.stderr).toMatch(/^stepwise: Run "[^"]+" does not accept approve now: it accepts APPROVE, REJECT\. Did you mean APPROVE\? Nothing was changed\./);

    const step = await cli(['rerun', run.runId, '--from', 'validat', ...store]);
    expect(step.code).toBe(1);
    expect(step.stderr).toContain('no step "validat" in invoice-approval (did you mean "validate"?)');
  });

  it('validate suggests a variable and a function as an expression writes them, with their $ (it said "steps")', async () => {
    const file = join(tempDir(), 'flow.yaml');
    writeFileSync(file, ['id: flow', 'steps:', '  done: { final: true, output: { a: "{% $stpes.x %}", b: "{% $uppercse(\'x\') %}" } }', ''].join('\n'));
    const result = await cli(['validate', file]);
    expect(result.code).toBe(1);
    expect(result.stdout + result.stderr).toContain(`${file}:3:41: steps.done.output.a: $stpes is not a variable; did you mean "$steps"?`);
    expect(result.stdout + result.stderr).toContain(`steps.done.output.b: $uppercse() is not a function; did you mean "$uppercase()"?`);
  });
});
