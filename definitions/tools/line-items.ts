/**
 * Tools of the invoice line-item example (definitions/invoice-line-items.yaml):
 * price one line from the catalogue, and record Claude's check of it (the
 * example's `with:` fills the check's `sku` from the line, Claude the rest).
 */
import { z } from 'zod';
import { defineTool } from '../../src/tools/define.js';

const catalogue: Record<string, number> = { 'HP-220': 250, 'SK-9': 25, 'VL-40': 120, 'GS-7': 8.5 };

export const priceLine = defineTool({
  name: 'price_line',
  description: 'Look one invoice line up in the catalogue: its list price and how far the invoiced price is from it.',
  input: z.object({ sku: z.string().max(32), quantity: z.number().positive(), unitPrice: z.number().nonnegative() }),
  // Declared so validate's worst case can size the priced line the check step's prompt holds.
  output: z.object({ sku: z.string().max(32), quantity: z.number(), amount: z.number(), listPrice: z.number(), deviation: z.number() }).strict(),
  run: ({ sku, quantity, unitPrice }) => {
    const listPrice = catalogue[sku];
    // Not transient: asking again gives the same answer, so the item fails at once.
    if (listPrice === undefined) throw Object.assign(new Error(`SKU ${sku} is not in the catalogue`), { retryable: false });
    return { sku, quantity, amount: Math.round(quantity * unitPrice * 100) / 100, listPrice, deviation: Math.round(((unitPrice - listPrice) / listPrice) * 1000) / 1000 };
  },
});

export const recordLineCheck = defineTool({
  name: 'record_line_check',
  description: 'Record the check of one invoice line: whether it looks right, and why.',
  input: z.object({
    sku: z.string().max(32).describe('The SKU of the line checked'),
    ok: z.boolean().describe('True when the line matches the catalogue and looks plausible'),
    reason: z.string().min(1).describe('One sentence on why'),
  }),
  run: (check) => check,
});
