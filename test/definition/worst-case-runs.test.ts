/**
 * `validate`'s worst case is a bound: every shipped example, run with its
 * `.input.json` against the emulator under every fault profile (several
 * seeds), bills no more tokens than the bound says, and the bound names the
 * fields that leave a prompt unbounded instead of printing a number.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { worstCaseOf } from '../../src/cli/worst-case.js';
import { loadDefinition, loadDefinitionFromObject } from '../../src/definition/load.js';
import { faultProfiles, type FaultProfileName } from '../../src/emulator/faults.js';
import { rig } from '../guards/helpers.js';
import { recordNote } from '../guards/helpers.js';

/** Every shipped example: each definition under definitions/ that has an input file beside it. */
const examples = readdirSync('definitions')
  .filter((name) => /\.(yaml|ts)$/.test(name) && existsSync(`definitions/${name.replace(/\.(yaml|ts)$/, '.input.json')}`))
  .map((name) => `definitions/${name}`);
const profiles = Object.keys(faultProfiles) as FaultProfileName[];
const SEEDS = 4;

describe('validate worst case against real runs', () => {
  it.each(examples)('%s: bounded, and no run under any fault profile bills more', { timeout: 120_000 }, async (file) => {
    const loaded = await loadDefinition(file);
    const bound = worstCaseOf(loaded);
    expect(bound.bounded, bound.unbounded.join('; ')).toBe(true);
    expect(bound.exceedsBudget).toBe(false);
    const input = JSON.parse(readFileSync(file.replace(/\.(yaml|ts)$/, '.input.json'), 'utf8')) as unknown;
    let billed = 0;
    for (const profile of profiles) {
      for (let seed = 1; seed <= SEEDS; seed++) {
        const r = await rig({ faults: profile, seed, timeoutMs: 500, maxRetries: 2 });
        try {
          const run = await r.engine.start(loaded, { input });
          expect(run.usage.totalTokens, `${profile} seed ${seed}: ${run.status}`).toBeLessThanOrEqual(bound.tokens);
          billed = Math.max(billed, run.usage.totalTokens);
        } finally {
          await r.close();
        }
      }
    }
    expect(billed).toBeGreaterThan(0);
  });

  it('a definition that caches its prefix: no run bills more than the bound, though every attempt may write the prefix at 1.25×', { timeout: 120_000 }, async () => {
    const policy = Array.from({ length: 3000 }, (_, i) => `policy${i % 7} rule`).join(' ');
    const loaded = loadDefinitionFromObject(
      {
        id: 'cached-bound',
        // A backoff longer than the cache's 5 minutes: a retry writes the prefix again.
        retry: { maxAttempts: 2, backoff: { initial: '10m', factor: 1, max: '10m', jitter: 0 } },
        steps: {
          note: { claude: { tool: 'record_note', system: policy, prompt: 'Record a note titled Intake.', maxTokens: 100, summary: 'none' }, next: 'done' },
          done: { final: true, output: '{% $steps.note.output %}' },
        },
      },
      [recordNote],
      'cached-bound.test',
    );
    const bound = worstCaseOf(loaded);
    expect(bound.bounded).toBe(true);
    let prefix = 0;
    let rewrites = 0;
    for (const faults of [...profiles, 'invalid_input=0.6']) {
      for (let seed = 1; seed <= SEEDS; seed++) {
        const r = await rig({ faults, seed, timeoutMs: 500, maxRetries: 2, tools: [recordNote], sharedClock: true });
        try {
          const run = await r.engine.start(loaded);
          expect(run.usage.totalTokens, `${faults} seed ${seed}: ${run.status}`).toBeLessThanOrEqual(bound.tokens);
          const written = run.usage.cacheCreationInputTokens ?? 0;
          if (prefix === 0) prefix = written;
          if (written > prefix) rewrites++;
        } finally {
          await r.close();
        }
      }
    }
    // The runs did write the prefix, and some wrote it on each of two attempts.
    expect(prefix).toBeGreaterThan(10_000);
    expect(rewrites).toBeGreaterThan(0);
  });

  it('covers every shipped example', () => {
    expect(examples.length).toBeGreaterThanOrEqual(7);
  });

  it('names the field that leaves a prompt unbounded, and sizes what schemas bound', () => {
    const workflow = (text: Record<string, unknown>) => ({
      id: 'sized',
      input: { type: 'object', properties: { text, code: { enum: ['a', 'b'] }, n: { type: 'number' } } },
      steps: {
        note: { claude: { tool: 'record_note', prompt: 'Note it.', context: { text: '{% $input.text %}', code: '{% $input.code %}', n: '{% $input.n %}' } }, next: 'done' },
        done: { final: true },
      },
    });
    const open = worstCaseOf(loadDefinitionFromObject(workflow({ type: 'string' }), [recordNote], 'open.test'));
    expect(open.bounded).toBe(false);
    expect(open.unbounded).toEqual(['note: $input.text (a string without maxLength)']);
    const short = worstCaseOf(loadDefinitionFromObject(workflow({ type: 'string', maxLength: 100 }), [recordNote], 'short.test'));
    const long = worstCaseOf(loadDefinitionFromObject(workflow({ type: 'string', maxLength: 1100 }), [recordNote], 'long.test'));
    expect(short.bounded).toBe(true);
    // 1,000 more characters, at most two tokens each, in each of the step's attempts.
    expect(long.steps[0]!.inputTokens - short.steps[0]!.inputTokens).toBe(2000);
    expect(long.tokens - short.tokens).toBe(2000 * long.steps[0]!.attempts);
  });
});
