/**
 * Which fields of an invalid tool input a retry keeps (`fieldVerdicts`' `accepted`): the
 * top-level fields that passed, never the `with:` ones, and none when an
 * issue names no single declared field.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { fieldVerdicts } from '../../src/steps/partial-input.js';
import { defineTool, toolInputSchema, type AnyTool } from '../../src/tools/define.js';

const tool = (input: z.ZodType) => defineTool({ name: 't', description: 'T.', input, run: () => null }) as unknown as AnyTool;
const invoice = tool(z.object({ vendorId: z.string().regex(/^V-\d{4}$/), total: z.number(), currency: z.string().length(3) }));
const kept = (t: AnyTool, input: unknown, exclude: string[] = []) => fieldVerdicts(t, toolInputSchema(t), input, exclude)?.accepted;

describe('fieldVerdicts: the accepted fields', () => {
  it('keeps the fields that passed; a wrong type and a missing field are asked again', () => {
    expect(kept(invoice, { vendorId: 'V-1001', total: 'x', currency: 'EUR' })).toEqual({ vendorId: 'V-1001', currency: 'EUR' });
    expect(kept(invoice, { vendorId: 'V-1001', currency: 'EUR' })).toEqual({ vendorId: 'V-1001', currency: 'EUR' });
  });

  it('leaves out the with: fields, and keeps nothing when nothing else passed', () => {
    expect(kept(invoice, { vendorId: 'V-1001', total: 'x', currency: 'EUR' }, ['currency'])).toEqual({ vendorId: 'V-1001' });
    expect(kept(invoice, { vendorId: 'bad', total: 'x', currency: 'EUR' }, ['currency'])).toBeUndefined();
  });

  it('keeps nothing for a valid input, a non-object, a check across fields or an unknown key', () => {
    expect(kept(invoice, { vendorId: 'V-1001', total: 1, currency: 'EUR' })).toBeUndefined();
    expect(kept(invoice, 'text')).toBeUndefined();
    const across = tool(z.object({ from: z.number(), to: z.number() }).refine((v) => v.from < v.to, 'from must be before to'));
    expect(kept(across, { from: 5, to: 1 })).toBeUndefined();
    const strict = tool(z.object({ a: z.string(), b: z.string() }).strict());
    expect(kept(strict, { a: 'x', b: 'y', extra: 1 })).toBeUndefined();
  });
});
