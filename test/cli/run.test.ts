/**
 * End to end: `run`, `send`, `resume`, `list`, `show` in separate processes of
 * the built CLI, on a SQLite file, against the emulator the CLI starts itself.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SPAWN_BUDGET_MS } from '../budgets.js';
import { EMULATOR_NOTE, cli, example, lastJson, root, tempDir, tempStore, type RunJson } from './helpers.js';

const stepStatuses = ['done', 'failed', 'waiting', 'running', 'skipped'];

/** The `--json` contract of `run`, `resume` and `send`. */
function expectContract(run: RunJson) {
  expect(run).toEqual(
    expect.objectContaining({
      runId: expect.any(String),
      workflow: expect.any(String),
      status: expect.any(String),
      resumable: expect.any(Boolean),
      usage: expect.objectContaining({ inputTokens: expect.any(Number), outputTokens: expect.any(Number), totalTokens: expect.any(Number) }),
    }),
  );
  expect(run).toHaveProperty('output');
  expect(run).toHaveProperty('waitingFor');
  expect(run).toHaveProperty('failure');
  expect(['done', 'waiting', 'running', 'failed', 'budget_exhausted', 'cancelled']).toContain(run.status);
  expect(run.usage.totalTokens).toBe(run.usage.inputTokens + run.usage.outputTokens);
  for (const step of run.steps) {
    expect(step).toEqual(expect.objectContaining({ id: expect.any(String), status: expect.any(String), attempts: expect.any(Number), tokens: expect.any(Number) }));
    expect(stepStatuses).toContain(step.status);
  }
  expect(run.steps.reduce((t, s) => t + s.tokens, 0)).toBe(run.usage.totalTokens);
}

// Each test has its own store: they run side by side.
describe.concurrent('stepwise run / send / resume', { timeout: SPAWN_BUDGET_MS }, () => {
  it('every example runs from the CLI as shipped; the approval waits in one process and another approves it', async () => {
    const store = tempStore();
    const [invoice, triage, lead] = await Promise.all([
      cli(['run', '--emulator', ...example('invoice-approval.yaml'), ...store, '--json']),
      cli(['run', '--emulator', ...example('support-triage.yaml'), ...tempStore(), '--json']),
      cli(['run', '--emulator', ...example('lead-enrichment.ts'), ...tempStore(), '--json']),
    ]);

    for (const result of [invoice, triage, lead]) {
      expect(result.stderr).toContain('--emulator; using the built-in emulator');
      expectContract(lastJson(result.stdout));
    }
    expect([triage.code, lead.code]).toEqual([0, 0]);
    expect(lastJson(triage.stdout)).toMatchObject({ workflow: 'support-triage', status: 'done', failure: null, waitingFor: null });
    expect(lastJson(lead.stdout)).toMatchObject({ workflow: 'lead-enrichment', status: 'done', failure: null });

    expect(invoice.code).toBe(0);
    const waiting = lastJson(invoice.stdout);
    expect(waiting).toMatchObject({ workflow: 'invoice-approval', status: 'waiting', output: null, failure: null, resumable: false });
    expect(waiting.waitingFor).toMatchObject({ step: 'cfo_approval', events: ['APPROVE', 'REJECT'] });
    expect(waiting.steps.map((s) => [s.id, s.status])).toEqual([
      ['extract', 'done'],
      ['validate', 'done'],
      ['route', 'done'],
      ['cfo_approval', 'waiting'],
    ]);
    // One progress line per step on stderr.
    expect(invoice.stderr).toMatch(/extract done · 1 attempt · \d+ tokens/);

    // A wrong event, from another process: exit 1, nothing changes.
    const before = await cli(['show', waiting.runId, ...store, '--json']);
    const wrong = await cli(['send', '--emulator', waiting.runId, 'ESCALATE', ...store, '--json']);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('does not accept ESCALATE now: it accepts APPROVE, REJECT. Nothing was changed.');
    expect(wrong.stdout).toBe('');
    const after = await cli(['show', waiting.runId, ...store, '--json']);
    expect(after.stdout).toBe(before.stdout);

    // The approval, from a third process.
    const approved = await cli(['send', '--emulator', waiting.runId, 'APPROVE', '--data', '{"by":"cfo@example.com"}', ...store, '--json']);
    expect(approved.code).toBe(0);
    // Progress lines for what this process did, not again for the steps the first process ran.
    expect(approved.stderr).toMatch(/cfo_approval done/);
    expect(approved.stderr).toMatch(/pay done · 1 attempt/);
    expect(approved.stderr).not.toMatch(/extract done/);
    const done = lastJson(approved.stdout);
    expectContract(done);
    expect(done).toMatchObject({
      runId: waiting.runId,
      status: 'done',
      waitingFor: null,
      output: { decision: 'approved', payment: { approvedBy: 'cfo@example.com', amount: 12500 } },
    });
    expect(done.usage).toEqual(waiting.usage);

    const [list, show, showJson] = await Promise.all([
      cli(['list', ...store, '--json']),
      cli(['show', waiting.runId, ...store]),
      cli(['show', waiting.runId, ...store, '--json']),
    ]);
    expect(list.code).toBe(0);
    const runs = JSON.parse(list.stdout) as Array<{ runId: string; workflow: string; status: string }>;
    expect(Array.isArray(runs)).toBe(true);
    expect(runs).toEqual([expect.objectContaining({ runId: waiting.runId, workflow: 'invoice-approval', status: 'done' })]);

    expect(show.code).toBe(0);
    expect(show.stdout).toContain(`run ${waiting.runId}`);
    expect(show.stdout).toContain('status done');
    for (const step of ['extract', 'validate', 'route', 'cfo_approval', 'pay', 'done']) expect(show.stdout).toContain(step);
    expect(show.stdout).toMatch(/extract\s+1\s+1\s+completed/);
    expect(show.stdout).toMatch(/finished/);

    const shown = JSON.parse(showJson.stdout) as RunJson & { journal: Array<{ seq: number; event: string; step: string | null }> };
    expect(shown).toMatchObject({ runId: waiting.runId, status: 'done' });
    expect(shown.journal.map((e) => e.seq)).toEqual(shown.journal.map((_, i) => i + 1));
    expect(shown.journal[0]?.event).toBe('created');
    expect(shown.journal.at(-1)?.event).toBe('finished');
    expect(shown.journal.filter((e) => e.event === 'event')).toHaveLength(1);
  });

  it('--budget 100 stops in budget_exhausted with exit 1; resume --budget 50000 finishes it', async () => {
    const store = tempStore();
    const stopped = await cli(['run', '--emulator', ...example('support-triage.yaml'), ...store, '--budget', '100', '--json']);
    expect(stopped.code).toBe(1);
    const run = lastJson(stopped.stdout);
    expectContract(run);
    expect(run).toMatchObject({ status: 'budget_exhausted', resumable: true, failure: { kind: 'budget', step: 'classify' } });

    const resumed = await cli(['resume', '--emulator', run.runId, ...store, '--budget', '50000', '--json']);
    expect(resumed.code).toBe(0);
    expect(lastJson(resumed.stdout)).toMatchObject({ runId: run.runId, status: 'done', failure: null });
  });

  it('resume reuses the fault spec stored with the run unless given a new one', async () => {
    const store = tempStore();
    const refused = await cli(['run', '--emulator', ...example('support-triage.yaml'), ...store, '--faults', 'refusal=1', '--json']);
    expect(refused.code).toBe(1);
    const run = lastJson(refused.stdout);
    expect(run).toMatchObject({ status: 'failed', resumable: true, failure: { kind: 'refusal', step: 'classify' } });

    const again = await cli(['resume', '--emulator', run.runId, ...store, '--json']);
    expect(again.stderr).toContain('faults refusal=1');
    expect(again.code).toBe(1);
    expect(lastJson(again.stdout)).toMatchObject({ status: 'failed', failure: { kind: 'refusal' } });

    const fixed = await cli(['resume', '--emulator', run.runId, ...store, '--faults', 'none', '--json']);
    expect(fixed.code).toBe(0);
    expect(lastJson(fixed.stdout)).toMatchObject({ status: 'done', failure: null });
  });

  it('send and show of an unknown run exit 1 saying so, naming the store they looked in', async () => {
    const store = tempStore();
    const [send, show] = await Promise.all([cli(['send', '--emulator', 'no-such-run', 'APPROVE', ...store]), cli(['show', 'no-such-run', ...store])]);
    for (const result of [send, show]) {
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(`stepwise: No run with id "no-such-run" in the store ${store[1]}. List runs with \`stepwise list --store ${store[1]}\`.\n`);
    }
  });

  it('a run that fails for good exits 1 with its failure', async () => {
    const dir = tempDir();
    const definition = join(dir, 'fails.yaml');
    writeFileSync(
      definition,
      [
        'id: always-fails',
        'tools: ' + join(root, 'definitions/tools/invoice.ts'),
        'retry: { maxAttempts: 2, backoff: { initial: 1ms, max: 2ms } }',
        'steps:',
        '  validate:',
        '    tool: check_vendor',
        '    with: { vendorId: 42 }',
        '    next: done',
        '  done: { final: true }',
        '',
      ].join('\n'),
    );
    const result = await cli(['run', '--emulator', definition, ...tempStore(), '--json']);
    expect(result.code).toBe(1);
    const run = lastJson(result.stdout);
    expectContract(run);
    expect(run).toMatchObject({ status: 'failed', resumable: true, failure: { kind: 'invalid_data', step: 'validate' } });
    expect(run.failure?.message).toMatch(/^the input of check_vendor is invalid: vendorId: /);
    expect(run.steps[0]).toMatchObject({ id: 'validate', status: 'failed', attempts: 1 });
  });

  it('--faults rate_limit=0.3 --seed 7 still completes', async () => {
    const store = tempStore();
    const result = await cli(['run', '--emulator', ...example('lead-enrichment.ts'), ...store, '--faults', 'rate_limit=0.3', '--seed', '7', '--json']);
    expect(result.stderr).toContain('seed 7, faults rate_limit=0.3');
    expect(result.code).toBe(0);
    expect(lastJson(result.stdout)).toMatchObject({ status: 'done', failure: null });
  });

  it('rate-limited attempts are retried by the engine and journaled; when all fail, resume continues', async () => {
    const store = tempStore();
    // With the SDK's own retries off, every 429 is a failed step attempt the engine retries.
    const result = await cli(['run', '--emulator', ...example('support-triage.yaml'), ...store, '--faults', 'rate_limit=1', '--max-retries', '0', '--json']);
    expect(result.code).toBe(1);
    const run = lastJson(result.stdout);
    expect(run).toMatchObject({ status: 'failed', resumable: true, failure: { kind: 'retries_exhausted', step: 'classify' } });
    expect(run.steps.find((s) => s.id === 'classify')).toMatchObject({ status: 'failed', attempts: 3 });
    const shown = JSON.parse((await cli(['show', run.runId, ...store, '--json'])).stdout) as { journal: Array<{ event: string; step: string; error?: { message: string } }> };
    const limited = shown.journal.filter((e) => e.step === 'classify' && e.event === 'failed');
    expect(limited).toHaveLength(3);
    for (const e of limited) expect(e.error?.message).toMatch(/^429 /);
    expect(shown.journal.filter((e) => e.step === 'classify' && e.event === 'retry_scheduled')).toHaveLength(2);

    const resumed = await cli(['resume', '--emulator', run.runId, ...store, '--faults', 'none', '--json']);
    expect(resumed.code).toBe(0);
    expect(lastJson(resumed.stdout)).toMatchObject({ status: 'done', failure: null });
  });

  it('--input with a file that is not JSON, or missing, is a clear error with exit 1', async () => {
    const dir = tempDir();
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{ "document": ');
    const [broken, missing] = await Promise.all([
      cli(['run', '--emulator', 'definitions/invoice-approval.yaml', '--input', `@${bad}`, ...tempStore(), '--json']),
      cli(['run', '--emulator', 'definitions/invoice-approval.yaml', '--input', `@${join(dir, 'nope.json')}`, ...tempStore(), '--json']),
    ]);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain(`stepwise: --input is not valid JSON (in ${bad})`);
    expect(broken.stdout).toBe('');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/stepwise: --input: cannot read .*nope\.json: ENOENT/);
  });

  it('run input that fails the input schema exits 1 naming the problem', async () => {
    const result = await cli(['run', '--emulator', 'definitions/invoice-approval.yaml', '--input', '{"document": 5}', ...tempStore(), '--json']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('does not match the input schema of "invoice-approval"');
    expect(result.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
  });
});
