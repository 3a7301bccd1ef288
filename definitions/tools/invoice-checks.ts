/**
 * Tools of the invoice-parallel-check example: a budget lookup against a
 * (fixed) table of cost-centre budgets, and the note Claude writes about it.
 */
import { z } from 'zod';
import { defineTool } from '../../src/tools/define.js';

/** What is left this quarter, by currency (one cost centre per currency in this example). */
const remaining: Record<string, number> = { USD: 40_000, EUR: 25_000 };

export const checkBudget = defineTool({
  name: 'check_budget',
  description: 'Look up what is left of the cost centre budget this quarter and whether an invoice fits.',
  input: z.object({ amount: z.number().nonnegative(), currency: z.string().length(3) }),
  output: z.object({ currency: z.string().max(3), remaining: z.number(), fits: z.boolean() }).strict(),
  run: ({ amount, currency }) => {
    const left = remaining[currency.toUpperCase()];
    if (left === undefined) throw Object.assign(new Error(`no budget in ${currency}`), { retryable: false });
    return { currency: currency.toUpperCase(), remaining: left, fits: amount <= left };
  },
});

export const recordBudgetNote = defineTool({
  name: 'record_budget_note',
  description: 'Record a one-line note for the approver about how the invoice weighs on the budget.',
  input: z.object({ note: z.string().min(1).describe('One line for the approver') }),
  run: (input) => input,
});
