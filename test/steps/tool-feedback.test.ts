/**
 * Retries that learn from tool errors, through the real engine, a real SQLite
 * file and the emulator: the tool's error is fed back (bounded, secrets
 * stripped, journaled) and the emulator corrects its input; `retryable` on
 * the thrown error and `retryOn` on the step decide which errors are retried.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadDefinitionFromObject } from '../../src/definition/load.js';
import { ToolError } from '../../src/errors.js';
import { defineTool, type AnyTool } from '../../src/tools/define.js';
import { harness, type Harness } from '../engine/helpers.js';
import { feedbackFor } from '../../src/steps/feedback.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const known = ['V-1001', 'V-1002'];

/** An ERP that knows two vendors and rejects any other id, naming the ones it knows. */
function vendorTool(reject: (vendorId: string) => Error = (id) => new ToolError(`unknown vendor id ${id}; known vendor ids: ${known.join(', ')}`, { retryable: true })) {
  const seen: string[] = [];
  const tool = defineTool({
    name: 'create_po',
    description: 'Create a purchase order in the ERP.',
    input: z.object({ vendorId: z.string().regex(/^V-\d{4}$/), amount: z.number().nonnegative() }),
    run: ({ vendorId, amount }) => {
      seen.push(vendorId);
      if (!known.includes(vendorId)) throw reject(vendorId);
      return { po: `PO-${vendorId}`, amount };
    },
  });
  return { tool: tool as unknown as AnyTool, seen };
}

function definition(tool: AnyTool, step: Record<string, unknown> = {}, context: Record<string, unknown> = { request: '{% $input.request %}' }) {
  return loadDefinitionFromObject(
    {
      id: 'po',
      retry: { maxAttempts: 3 },
      steps: {
        order: { claude: { tool: 'create_po', prompt: 'Create the purchase order the request asks for.', context }, next: 'done', ...step },
        review: { final: true, output: 'review' },
        done: { final: true, output: '{% $steps.order.output %}' },
      },
    },
    [tool],
    'po',
  );
}

const request = 'Purchase request\nVendor ID: V-0042\nAmount: 1200\n';

describe('tool errors fed back to Claude', () => {
  it('a tool that rejects an unknown vendor id and accepts a corrected one completes in two attempts, the error fed back and journaled', async () => {
    h = await harness();
    const { tool, seen } = vendorTool();
    const engine = h.engine();
    const view = await engine.start(definition(tool), { input: { request } });

    expect(view.status).toBe('done');
    expect(seen).toEqual(['V-0042', 'V-1001']);
    expect(view.steps[0]).toMatchObject({ id: 'order', status: 'done', attempts: 2 });
    expect(view.output).toEqual({ po: 'PO-V-1001', amount: 1200 });

    const journal = (await engine.journal(view.runId)).filter((e) => e.step === 'order');
    expect(journal.map((e) => `${e.event}:${e.attempt}`)).toEqual(['started:1', 'failed:1', 'retry_scheduled:1', 'started:2', 'completed:2']);
    const message = 'create_po: unknown vendor id V-0042; known vendor ids: V-1001, V-1002';
    expect(journal[1]!.error).toEqual({ kind: 'tool_error', message });
    // The first attempt had nothing to learn from; the second records the feedback it sent.
    expect(journal[0]!.data).not.toHaveProperty('feedback');
    expect(journal[3]!.data).toMatchObject({ feedback: `The tool failed: ${message}` });
  });

  it('a tool error marked retryable: false fails the step at once, to its onError route', async () => {
    h = await harness();
    const { tool, seen } = vendorTool((id) => new ToolError(`vendor ${id} is blocked`, { retryable: false }));
    const engine = h.engine();
    const view = await engine.start(definition(tool, { onError: 'review' }), { input: { request } });
    expect(view.status).toBe('done');
    expect(view.output).toBe('review');
    expect(seen).toEqual(['V-0042']);
    expect(view.steps[0]).toMatchObject({ id: 'order', status: 'failed', attempts: 1 });
    const events = (await engine.journal(view.runId)).filter((e) => e.step === 'order').map((e) => e.event);
    expect(events).not.toContain('retry_scheduled');
  });

  it('retryOn retries only the errors it names (by reason, code, name or message text); any other tool error fails at once', async () => {
    const closed = () => {
      const seen: string[] = [];
      const tool = defineTool({
        name: 'create_po',
        description: 'Create a purchase order charged to a cost centre.',
        input: z.object({ costCentre: z.string().regex(/^CC-\d{3}$/) }),
        run: ({ costCentre }) => {
          seen.push(costCentre);
          if (costCentre !== 'CC-200') throw new ToolError(`cost centre ${costCentre} is closed`, { reason: 'cost_centre_closed' });
          return { charged: costCentre };
        },
      });
      return { tool: tool as unknown as AnyTool, seen };
    };
    const centres = { centres: '{% $input.centres %}' };
    const input = { centres: [{ costCentre: 'CC-100', owner: 'ops' }, { costCentre: 'CC-200', owner: 'finance' }] };

    h = await harness();
    const matching = closed();
    const engine = h.engine();
    const retried = await engine.start(definition(matching.tool, { retryOn: ['cost_centre_closed'] }, centres), { input });
    expect(retried.status).toBe('done');
    expect(retried.output).toEqual({ charged: 'CC-200' });
    // The second attempt picked the other candidate from the context, not the one the error named.
    expect(matching.seen).toEqual(['CC-100', 'CC-200']);

    const byText = closed();
    const textual = await engine.start(definition(byText.tool, { retryOn: ['is closed'] }, centres), { input });
    expect(textual.status).toBe('done');
    expect(byText.seen).toEqual(['CC-100', 'CC-200']);

    const other = closed();
    const failed = await engine.start(definition(other.tool, { retryOn: ['vendor_unknown', 'ToolTimeout'] }, centres), { input });
    expect(failed.status).toBe('failed');
    expect(failed.failure).toMatchObject({ kind: 'tool_error', step: 'order', message: 'create_po: cost centre CC-100 is closed' });
    expect(other.seen).toEqual(['CC-100']);
  });

  it('feeds back a bounded message with secrets stripped; the journal keeps what was sent', async () => {
    h = await harness();
    const noisy = (id: string) =>
      new Error(
        `unknown vendor id ${id}; known vendor ids: ${known.join(', ')}; ERP at https://svc:hunter2@erp.example.com/api ` +
          `with api_key=sk-ant-api03-AbCdEf0123456789xyz and Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl ` +
          `password: Tr0ub4dor&3 trace ${'x'.repeat(3000)}`,
      );
    const { tool } = vendorTool(noisy);
    const engine = h.engine();
    const view = await engine.start(definition(tool), { input: { request } });
    expect(view.status).toBe('done');
    const started = (await engine.journal(view.runId)).filter((e) => e.step === 'order' && e.event === 'started');
    const feedback = (started[1]!.data as { feedback: string }).feedback;
    expect(feedback).toContain('unknown vendor id V-0042; known vendor ids: V-1001, V-1002');
    expect(feedback.length).toBeLessThanOrEqual(1000);
    expect(feedback).toMatch(/…\[trimmed \d+ chars\]$/);
    for (const secret of ['hunter2', 'sk-ant-api03-AbCdEf0123456789xyz', 'eyJhbGciOiJIUzI1NiJ9', 'Tr0ub4dor&3']) expect(feedback).not.toContain(secret);
    expect(feedback).toContain('https://svc:***@erp.example.com/api');
  });
});

describe('feedbackFor', () => {
  it('strips every credential shape it knows and keeps the words around them', () => {
    const message = [
      'refused by https://svc:hunter2@erp.example.com',
      'password=hunter3',
      'token: abc.def.ghi',
      'api_key: "k-123456"',
      'Authorization: Bearer abcdefgh12345678',
      'used sk-ant-api03-AbCdEf0123456789xyz',
      'ghp_abcdefghijklmnopqrstuvwxyz0123',
      'AKIAABCDEFGHIJKLMNOP',
      'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl',
    ].join('; ');
    const feedback = feedbackFor({ kind: 'tool_error', message: `create_po: ${message}` })!;
    expect(feedback).toBe(
      'The tool failed: create_po: refused by https://svc:***@erp.example.com; password=***; token: ***; api_key: "***"; Authorization: ***; used ***; ***; ***; ***',
    );
    expect(feedbackFor({ kind: 'model_error', message: 'overloaded' })).toBeUndefined();
    expect(feedbackFor(null)).toBeUndefined();
  });
});
