/**
 * Tool of the expense-review example: the reimbursement Claude drafts from an
 * expense report, paid once a person approves it.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { defineTool } from '../../src/tools/define.js';

export const reimburseExpense = defineTool({
  name: 'reimburse_expense',
  description: 'Pay an employee back for an expense report.',
  input: z.object({
    employee: z.string().min(1).describe('Who is paid back'),
    amount: z.number().positive().describe('Total to pay back'),
    currency: z.string().length(3).describe('ISO currency code'),
    category: z.enum(['travel', 'meals', 'lodging', 'other']).describe('Main category of the expenses'),
  }),
  // The idempotency key makes a re-run of the same attempt schedule the same payment, not a second one.
  run: (reimbursement, { idempotencyKey }) => ({
    paymentId: `EXP-${createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 10)}`,
    ...reimbursement,
    status: 'scheduled',
  }),
});
