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
  return prompts[0]!;
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
