/**
 * What a prompt holds, through the real engine, a SQLite file and the
 * emulator: the `<progress>` block as `summary:` asks (workflow default, step
 * override) and `context:` values cut to their `maxTokens`.
 */
import Anthropic from '@anthropic-ai/sdk';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadDefinitionFromObject } from '../../src/definition/load.js';
import { ManualClock } from '../../src/engine/clock.js';
import { createEngine } from '../../src/engine/engine.js';
import { countTokens } from '../../src/model/tokens.js';
import { createSqliteStore } from '../../src/store/sqlite.js';
import { defineTool, type AnyTool } from '../../src/tools/define.js';
import { harness, type Harness } from '../engine/helpers.js';
import type { ClaudeStep } from '../../src/definition/schema.js';
import { modelBound, SUMMARY_TOKENS } from '../../src/kinds/model-bound.js';
import { defaultSummaryLimits } from '../../src/model/prompt.js';
import { toolInputSchema } from '../../src/tools/define.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const notes = Array.from({ length: 400 }, (_, i) => `note${i}`).join(' ');
const lookup = defineTool({
  name: 'lookup_company',
  description: 'Look a company up.',
  input: z.object({ domain: z.string() }),
  run: () => ({ name: 'Acme', size: 5000, notes }),
});
const score = defineTool({
  name: 'score_lead',
  description: 'Score a lead.',
  input: z.object({ score: z.number().int().min(0).max(100) }),
  run: (value) => value,
});

/** Runs a two-step workflow and returns the prompt of its `claude` step. */
async function promptOf(workflow: Record<string, unknown>, step: Record<string, unknown>): Promise<string> {
  return (await runOf(workflow, step)).prompt;
}

/** Runs a two-step workflow: the prompt of its `claude` step, the input tokens it was charged, the loaded definition. */
async function runOf(workflow: Record<string, unknown>, step: Record<string, unknown>) {
  h = await harness();
  const prompts: string[] = [];
  const client = new Anthropic({
    baseURL: h.emu.url,
    apiKey: 'x',
    maxRetries: 0,
    fetch: async (url, init) => {
      prompts.push((JSON.parse(String(init?.body)) as { messages: Array<{ content: string }> }).messages[0]!.content);
      return fetch(url, init);
    },
  });
  const store = createSqliteStore({ path: h.dbPath });
  h.stores.push(store);
  const engine = createEngine({ store, model: client, clock: new ManualClock({ autoAdvance: true }) });
  const definition = loadDefinitionFromObject(
    {
      id: 'lead',
      ...workflow,
      steps: {
        company: { tool: 'lookup_company', with: { domain: 'acme.test' } },
        rate: { claude: { tool: 'score_lead', prompt: 'Score the lead.', context: { name: '{% $steps.company.output.name %}' }, ...step } },
        done: { final: true },
      },
    },
    [lookup as unknown as AnyTool, score as unknown as AnyTool],
    'lead',
  );
  const view = await engine.start(definition, { input: {} });
  expect(view.status).toBe('done');
  expect(prompts).toHaveLength(1);
  const completed = (await engine.journal(view.runId)).find((e) => e.step === 'rate' && e.event === 'completed');
  return { prompt: prompts[0]!, inputTokens: completed!.usage!.inputTokens, definition };
}

describe('summary: what the <progress> block holds', () => {
  it('outputs (the default): earlier steps with up to four scalar outputs', async () => {
    const prompt = await promptOf({}, {});
    expect(prompt).toMatch(/<progress>\n- company: done — name: Acme, size: 5000, notes: note0 note1 [^\n]*…\n<\/progress>/);
  });

  it('ids: step ids and outcomes only; none: no progress block at all', async () => {
    expect(await promptOf({}, { summary: 'ids' })).toContain('<progress>\n- company: done\n</progress>');
    const none = await promptOf({}, { summary: 'none' });
    expect(none).not.toContain('<progress>');
    expect(none).not.toContain('company');
  });

  it('the workflow sets the default and a step overrides it', async () => {
    expect(await promptOf({ summary: 'none' }, {})).not.toContain('<progress>');
    expect(await promptOf({ summary: 'none' }, { summary: 'ids' })).toContain('<progress>\n- company: done\n</progress>');
  });
});

describe('context values bounded by maxTokens', () => {
  it('cuts a value past maxTokens with a marker naming what was cut, and leaves a short or plain value whole', async () => {
    const prompt = await promptOf(
      { summary: 'none' },
      { context: { company: { value: '{% $steps.company.output %}', maxTokens: 40 }, name: { value: '{% $steps.company.output.name %}', maxTokens: 40 }, size: '{% $steps.company.output.size %}' } },
    );
    const company = /<company>\n([\s\S]*?)\n<\/company>/.exec(prompt)![1]!;
    const cut = /^([\s\S]*)…\[trimmed (\d+) tokens\]$/.exec(company);
    expect(cut).not.toBeNull();
    const whole = JSON.stringify({ name: 'Acme', size: 5000, notes }, null, 1);
    expect(whole.startsWith(cut![1]!)).toBe(true);
    expect(countTokens(cut![1]!)).toBeLessThanOrEqual(40);
    expect(countTokens(cut![1]!) + Number(cut![2])).toBe(countTokens(whole));
    expect(prompt).toContain('<name>\nAcme\n</name>');
    expect(prompt).toContain('<size>\n5000\n</size>');
  });
});

describe('the worst-case bound of a model step', () => {
  it('counts a bounded context value at its bound, so it covers the prompt sent; summary: none drops the summary cap', async () => {
    const step = { context: { company: { value: '{% $steps.company.output %}', maxTokens: 60 } } };
    const { inputTokens, definition } = await runOf({}, step);
    const rate = definition.workflow.steps['rate'] as ClaudeStep;
    const tool = { name: score.name, description: score.description, input_schema: toolInputSchema(score as unknown as AnyTool) };
    const bound = modelBound(rate.claude, tool, definition.workflow);
    expect(bound.inputTokens).toBeGreaterThanOrEqual(inputTokens);
    const none = modelBound({ ...rate.claude, summary: 'none' }, tool, definition.workflow);
    expect(bound.inputTokens - none.inputTokens).toBe(SUMMARY_TOKENS);
    expect(SUMMARY_TOKENS).toBeGreaterThanOrEqual(defaultSummaryLimits.maxTokens);
  });
});
