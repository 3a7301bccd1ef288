/** The worst-case token bound: pure computation, and `stepwise validate` printing and warning about it. */
import { describe, expect, it } from 'vitest';
import { worstCaseTokens } from '../../src/policy/worst-case.js';
import { validateWorkflow } from '../../src/definition/validate.js';
import { atStart } from '../../src/definition/locate.js';
import { cli } from '../cli/helpers.js';
import { SPAWN_BUDGET_MS } from '../budgets.js';

const wf = (data: unknown) => validateWorkflow(data, atStart, 'test');
const analyze = (maxTokens: number, extra: Record<string, unknown> = {}) => ({
  analyze: { prompt: 'Say something.', schema: { type: 'object' }, maxTokens },
  ...extra,
});

describe('worst-case token bound', () => {
  it('counts attempts × (prompt + max_tokens, doubled after the first) + retries × feedback along the longest path', () => {
    const bound = worstCaseTokens(
      wf({
        id: 'w',
        retry: { maxAttempts: 2 },
        steps: {
          a: analyze(100),
          pick: { choice: [{ when: '{% $input.big %}', next: 'big' }, { next: 'small' }] },
          big: analyze(1000, { next: 'done' }),
          small: analyze(10, { next: 'done' }),
          done: { final: true },
        },
      }),
    );
    expect(bound.path).toEqual(['a', 'pick', 'big', 'done']);
    const [a, big] = bound.steps;
    expect(a).toMatchObject({ step: 'a', visits: 1, attempts: 2, maxTokens: 100 });
    expect(a!.feedbackTokens).toBeGreaterThanOrEqual(2000); // 1,000 characters of feedback, up to two tokens each
    expect(a!.tokens).toBe(2 * a!.inputTokens + a!.feedbackTokens + 100 + 200);
    expect(big!.tokens).toBe(2 * big!.inputTokens + big!.feedbackTokens + 1000 + 2000);
    expect(bound.tokens).toBe(a!.tokens + big!.tokens);
    expect(bound.exceedsBudget).toBe(false);
  });

  it('bounds a cycle by its visit limits', () => {
    const loop = (maxVisits?: number) =>
      worstCaseTokens(
        wf({
          id: 'w',
          retry: { maxAttempts: 1 },
          steps: {
            draft: analyze(100, maxVisits ? { maxVisits } : {}),
            review: { choice: [{ when: '{% $steps.draft.visit < 3 %}', next: 'draft' }, { next: 'done' }] },
            done: { final: true },
          },
        }),
      );
    const once = loop(1).steps[0]!;
    expect(loop(4).steps[0]).toMatchObject({ visits: 4, tokens: 4 * once.tokens });
    expect(loop().steps[0]).toMatchObject({ visits: 10 }); // the default limits.maxVisits
  });

  it('counts a cached prefix as written (1.25×) on every attempt; none with cache: false or a prefix below the cacheable minimum', () => {
    const policy = (n: number) => Array.from({ length: n }, (_, i) => `policy${i % 7} rule`).join(' ');
    const bound = (system: string, extra: Record<string, unknown> = {}, workflow: Record<string, unknown> = {}) =>
      worstCaseTokens(
        wf({ id: 'w', retry: { maxAttempts: 2 }, ...workflow, steps: { a: { analyze: { prompt: 'Say something.', schema: { type: 'object' }, system, maxTokens: 100, ...extra }, next: 'done' }, done: { final: true } } }),
      ).steps[0]!;
    const cached = bound(policy(1000));
    const plain = bound(policy(1000), { cache: false });
    expect(cached.cacheWriteTokens).toBeGreaterThan(4000);
    expect(cached.cacheWriteTokens).toBeLessThan(cached.inputTokens);
    expect(cached.inputTokens).toBe(plain.inputTokens);
    expect(cached.tokens - plain.tokens).toBe(2 * (Math.ceil(1.25 * cached.cacheWriteTokens) - cached.cacheWriteTokens));
    expect(bound(policy(1000), {}, { cache: false }).cacheWriteTokens).toBe(0);
    expect(bound(policy(100)).cacheWriteTokens).toBe(0); // about 400 tokens: never cached
    // Haiku caches from 2,048 tokens: a ~1,600-token prefix is not written.
    expect(bound(policy(400)).cacheWriteTokens).toBeGreaterThan(0);
    expect(bound(policy(400), { model: 'claude-haiku-4-5' }).cacheWriteTokens).toBe(0);
  });

  it('validate prints the bound, warns past the budget, and rejects a loop with no exit', { timeout: SPAWN_BUDGET_MS }, async () => {
    const ok = await cli(['validate', 'definitions/support-triage.yaml', 'test/guards/fixtures/over-budget.yaml']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/support-triage .*worst case [\d,]+ tokens, budget 50,000/);
    expect(ok.stderr).toMatch(/warning .*over-budget\.yaml:3:9: budget: the worst case is \d+ tokens .* past 3600/);
    expect(ok.stderr).not.toMatch(/support-triage\.yaml.*budget/);

    const json = await cli(['validate', '--json', 'test/guards/fixtures/over-budget.yaml']);
    const [result] = JSON.parse(json.stdout) as Array<{ worstCase: { tokens: number; exceedsBudget: boolean; path: string[] }; warnings: Array<{ path: string }> }>;
    expect(result!.worstCase).toMatchObject({ exceedsBudget: true, path: ['draft', 'review', 'done'] });
    expect(result!.warnings.map((w) => w.path)).toContain('budget');

    const loop = await cli(['validate', 'test/guards/fixtures/loop-no-exit.yaml']);
    expect(loop.code).toBe(1);
    expect(loop.stdout).toMatch(/"ask", "check" form a loop with no exit/);
  });
});
