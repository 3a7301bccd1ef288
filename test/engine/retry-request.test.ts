/**
 * What a retried `claude` step sends, through the real engine, SDK and
 * emulator (SQLite on a real file): after an invalid tool input the retry
 * keeps the fields that passed validation and asks only for the others; after
 * a transport failure (5xx) the retry is the same request and only billed
 * replies are charged.
 */
import Anthropic from '@anthropic-ai/sdk';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadDefinitionFromObject } from '../../src/definition/load.js';
import { ManualClock } from '../../src/engine/clock.js';
import { createEngine } from '../../src/engine/engine.js';
import { createSqliteStore } from '../../src/store/sqlite.js';
import { defineTool } from '../../src/tools/define.js';
import { recordInvoice } from '../../definitions/tools/invoice.js';
import { harness, inputOf, load, type Harness } from './helpers.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

interface Exchange {
  readonly status: number;
  readonly body: {
    readonly messages: ReadonlyArray<{ readonly content: string }>;
    readonly tools: ReadonlyArray<{ readonly name: string; readonly input_schema: { properties?: Record<string, unknown>; required?: string[] } }>;
  };
  readonly reply: {
    readonly content?: ReadonlyArray<{ type: string; input?: Record<string, unknown> }>;
    readonly usage?: { input_tokens: number; output_tokens: number };
  };
}

/** An SDK client on the emulator at `url` that records every /v1/messages request and its answer in `exchanges`. */
function recordingClient(url: string, exchanges: Exchange[]): Anthropic {
  return new Anthropic({
    baseURL: url,
    apiKey: 'x',
    maxRetries: 0,
    fetch: async (target, init) => {
      const response = await fetch(target, init);
      if (String(target).endsWith('/v1/messages')) {
        exchanges.push({ status: response.status, body: JSON.parse(String(init?.body)), reply: (await response.clone().json()) as Exchange['reply'] });
      }
      return response;
    },
  });
}

/**
 * Runs invoice-approval on an emulator with `faults`, recording every /v1/messages request and its
 * answer. With `restart`, one step at a time, each on a new engine and store over the same SQLite file.
 */
async function runInvoice(seed: number, faults: string, restart = false) {
  h = await harness({ seed, faults });
  const exchanges: Exchange[] = [];
  const client = recordingClient(h.emu.url, exchanges);
  // One clock for every engine: time goes on across a restart.
  const clock = new ManualClock({ autoAdvance: true });
  const fresh = () => {
    const store = createSqliteStore({ path: h!.dbPath });
    h!.stores.push(store);
    return createEngine({ store, model: { client, maxRetries: 0 }, clock });
  };
  const engine = fresh();
  let view = await engine.start(await load('invoice-approval.yaml'), { input: inputOf('invoice-approval.yaml'), ...(restart ? { detach: true } : {}) });
  // One step() per new engine until extract has completed (the first fails, a later one runs the retry).
  for (let i = 0; restart && i < 4 && !(await engine.journal(view.runId)).some((e) => e.step === 'extract' && e.event === 'completed'); i++) {
    clock.advance(10_000); // past the retry's backoff
    view = await fresh().step(view.runId);
  }
  const extract = (await engine.journal(view.runId)).filter((e) => e.step === 'extract');
  return { view, exchanges, extract };
}

/** The first seed (deterministic) whose extract step fails its first attempt and completes its second. */
async function firstSeedRetriedOnce(faults: string, kind: string): Promise<Awaited<ReturnType<typeof runInvoice>> & { seed: number }> {
  for (let seed = 1; seed <= 30; seed++) {
    const run = await runInvoice(seed, faults);
    const shape = run.extract.map((e) => `${e.event}:${e.attempt}`).join(' ');
    if (shape === 'started:1 failed:1 retry_scheduled:1 started:2 completed:2' && run.extract[1]?.error?.kind === kind) return { ...run, seed };
    await h!.close();
    h = undefined;
  }
  throw new Error(`no seed in 1..30 retried extract once after ${kind}`);
}

const toolInput = (e: Exchange) => e.reply.content?.find((b) => b.type === 'tool_use')?.input ?? {};

describe('a retried claude step sends only what the failed step needs', () => {
  it('after an invalid tool input: the fields that passed are kept, the model is asked only for the invalid ones, with the error', async () => {
    const { view, exchanges, extract } = await firstSeedRetriedOnce('invalid_input=0.5', 'invalid_data');
    expect(view.status).toBe('waiting');
    const [first, retry] = exchanges;
    expect(exchanges).toHaveLength(2);
    const all = Object.keys(first!.body.tools[0]!.input_schema.properties ?? {});
    expect(all).toEqual(['invoiceNumber', 'vendorId', 'total', 'currency', 'dueDate']);

    // The fields of the first input the tool's schema rejected (or that were missing).
    const broken = toolInput(first!);
    const parsed = recordInvoice.input.safeParse(broken);
    expect(parsed.success).toBe(false);
    const invalid = [...new Set(parsed.error!.issues.map((i) => String(i.path[0])))];
    const accepted = all.filter((k) => !invalid.includes(k));
    expect(invalid.length).toBeGreaterThan(0);

    // The retry asks only for the invalid fields; the prompt (the document the values come from) and the error are there.
    const schema = retry!.body.tools[0]!.input_schema;
    expect(Object.keys(schema.properties ?? {}).sort()).toEqual([...invalid].sort());
    expect((schema.required ?? []).sort()).toEqual([...invalid].sort());
    const prompt = retry!.body.messages[0]!.content;
    expect(prompt).toContain(`<previous_attempt_rejected>\n${extract[1]!.error!.message}`);
    expect(prompt).toContain(`accepted and kept: ${accepted.join(', ')}`);
    expect(prompt).toContain(first!.body.messages[0]!.content.split('\n\n<progress>')[0]!.slice(0, 200));

    // The tool ran with the first attempt's accepted values and the retry's answer for the rest.
    const ran = extract[4]!.input as Record<string, unknown>;
    for (const key of accepted) expect(ran[key]).toEqual(broken[key]);
    for (const key of invalid) expect(ran[key]).toEqual(toolInput(retry!)[key]);
    expect(recordInvoice.input.safeParse(ran).success).toBe(true);
    // The retry's reply holds only the asked fields, so it is shorter than the first.
    expect(retry!.reply.usage!.output_tokens).toBeLessThan(first!.reply.usage!.output_tokens);
  });

  it('the kept fields survive a restart between the attempts: the retry sent by a new engine is the same', async () => {
    const straight = await firstSeedRetriedOnce('invalid_input=0.5', 'invalid_data');
    await h!.close();
    h = undefined;
    const restarted = await runInvoice(straight.seed, 'invalid_input=0.5', true);
    expect(restarted.extract.map((e) => `${e.event}:${e.attempt}`)).toEqual(['started:1', 'failed:1', 'retry_scheduled:1', 'started:2', 'completed:2']);
    expect(restarted.exchanges.map((e) => e.body)).toEqual(straight.exchanges.map((e) => e.body));
    expect(Object.keys(restarted.exchanges[1]!.body.tools[0]!.input_schema.properties ?? {}).length).toBeLessThan(5);
  });

  it('after a 5xx: the retry is the same request, and only the billed reply is charged', async () => {
    const { view, exchanges, extract } = await firstSeedRetriedOnce('server_error=0.5', 'model_error');
    expect(view.status).toBe('waiting');
    // No SDK retries here (maxRetries 0): the step's own retry resends the same request; an SDK retry would too.
    const last = exchanges.at(-1)!;
    expect(exchanges.map((e) => e.status)).toEqual([500, 200]);
    expect(last.body).toEqual(exchanges[0]!.body);
    expect(last.body.messages[0]!.content).not.toContain('previous_attempt_rejected');
    const billed = last.reply.usage!;
    expect(extract[1]!.usage?.totalTokens ?? 0).toBe(0);
    expect(view.usage.inputTokens).toBe(billed.input_tokens);
    expect(view.usage.outputTokens).toBe(billed.output_tokens);
  });
});

const openPostmortem = defineTool({
  name: 'open_postmortem',
  description: 'Opens a postmortem for an incident',
  input: z.object({ incidentRef: z.string().regex(/^IR-\d+$/), serviceName: z.enum(['checkout', 'search', 'payments']), impactMinutes: z.number().int() }),
  run: (input) => ({ postmortemId: 'PM-1', ...input }),
});
const postmortem = loadDefinitionFromObject(
  {
    id: 'postmortem',
    retry: { maxAttempts: 5 },
    steps: {
      open: { claude: { tool: 'open_postmortem', prompt: 'Record the incident fields found in the report.', context: { report: '{% $input.report %}' } } },
      done: { final: true, output: '{% $steps.open.output %}' },
    },
  },
  [openPostmortem],
  'postmortem',
);
const labels = 'Incident Ref: IR-95157\nService Name: payments\nImpact Minutes: 303';
const report = Array.from({ length: 12 }, (_, i) => `Paragraph ${i + 1}: the team reviewed the quarter and noted several late updates while customers waited.`)
  .toSpliced(2, 0, labels)
  .join('\n\n');

/** Runs `postmortem` on an emulator with `invalid_input` faults at each seed until `wanted` holds of its requests. */
async function postmortemRun(wanted: (exchanges: Exchange[]) => boolean) {
  for (let seed = 1; seed <= 60; seed++) {
    h = await harness({ seed, faults: 'invalid_input=0.6' });
    const exchanges: Exchange[] = [];
    const engine = createEngine({ store: createSqliteStore({ path: h.dbPath }), model: { client: recordingClient(h.emu.url, exchanges), maxRetries: 0 }, clock: new ManualClock({ autoAdvance: true }) });
    const view = await engine.start(postmortem, { input: { report } });
    await engine.store.close();
    if (wanted(exchanges)) return { view, exchanges, journal: await engine.journal(view.runId).catch(() => []) };
    await h.close();
    h = undefined;
  }
  throw new Error('no seed in 1..60 gave the requests wanted');
}

const promptOf = (e: Exchange | undefined) => e?.body.messages[0]?.content ?? '';
const excerpted = (e: Exchange | undefined) => promptOf(e).includes('[Excerpt for this retry');

describe('a retry after an invalid input sends of a long context what the rejected fields need', () => {
  it('the report cut to the paragraph that bears on them; the run completes with the values of the document', async () => {
    const { view, exchanges } = await postmortemRun((e) => e.length === 2 && excerpted(e[1]));
    expect(promptOf(exchanges[0])).toContain('Paragraph 5:');
    const retry = promptOf(exchanges[1]);
    expect(retry).toContain(labels);
    expect(retry).not.toContain('Paragraph 5:');
    expect(retry).toContain('<previous_attempt_rejected>');
    expect(retry.length).toBeLessThan(promptOf(exchanges[0]).length / 2);
    expect(exchanges[1]!.reply.usage!.input_tokens).toBeLessThan(exchanges[0]!.reply.usage!.input_tokens);
    expect(view.status).toBe('done');
    expect(view.output).toMatchObject({ incidentRef: 'IR-95157', serviceName: 'payments', impactMinutes: 303 });
  });

  it('a narrowed retry rejected again: the next attempt sends the whole report', async () => {
    const { view, exchanges } = await postmortemRun((e) => e.length >= 3 && excerpted(e[1]) && e[1]!.status === 200 && !openPostmortem.input.safeParse(toolInput(e[1]!)).success);
    expect(excerpted(exchanges[2])).toBe(false);
    expect(promptOf(exchanges[2])).toContain('Paragraph 5:');
    expect(promptOf(exchanges[2])).toContain('<previous_attempt_rejected>');
    expect(view.status).toBe('done');
  });
});
