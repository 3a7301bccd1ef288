/**
 * Tools of the invoice-approval example: the extraction record Claude fills,
 * a vendor lookup against a (fixed) ERP table, and the payment posting.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { defineTool } from '../../src/tools/define.js';

const vendors: Record<string, { name: string; status: 'active' | 'blocked'; paymentTerms: string }> = {
  'V-1001': { name: 'Acme Industrial Supply', status: 'active', paymentTerms: 'NET30' },
  'V-1002': { name: 'Globex Logistics', status: 'active', paymentTerms: 'NET45' },
  'V-6666': { name: 'Shady Shell Co', status: 'blocked', paymentTerms: 'PREPAID' },
};

export const recordInvoice = defineTool({
  name: 'record_invoice',
  description: 'Record the fields extracted from an invoice document.',
  input: z.object({
    invoiceNumber: z.string().min(1).describe('Invoice number, e.g. INV-2041'),
    vendorId: z.string().regex(/^V-\d{4}$/).describe('Vendor id, e.g. V-1001'),
    total: z.number().nonnegative().describe('Invoice total'),
    currency: z.string().length(3).describe('ISO currency code'),
    dueDate: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).describe('Due date, YYYY-MM-DD'),
  }),
  // What it returns is bounded, so a step that shows it to the model has a worst case (`validate`).
  output: z.object({
    invoiceNumber: z.string().max(64),
    vendorId: z.string().max(16),
    total: z.number(),
    currency: z.string().max(3),
    dueDate: z.string().max(10),
  }).strict(),
  run: (invoice) => ({ ...invoice, currency: invoice.currency.toUpperCase() }),
});

export const checkVendor = defineTool({
  name: 'check_vendor',
  description: 'Look a vendor up in the ERP and return its status and payment terms.',
  input: z.object({ vendorId: z.string() }),
  run: ({ vendorId }) => {
    const vendor = vendors[vendorId];
    // Not a transient failure: asking again gives the same answer, so the step goes straight to its onError route.
    if (!vendor) throw Object.assign(new Error(`vendor ${vendorId} is not in the ERP`), { retryable: false });
    return { vendorId, ...vendor };
  },
});

export const postPayment = defineTool({
  name: 'post_payment',
  description: 'Schedule the payment of an approved invoice.',
  input: z.object({ vendorId: z.string(), invoiceNumber: z.string(), amount: z.number().nonnegative(), approvedBy: z.string() }),
  // The idempotency key makes a re-run of the same attempt post the same payment, not a second one.
  run: (payment, { idempotencyKey }) => ({
    paymentId: `PAY-${createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 10)}`,
    ...payment,
    status: 'scheduled',
  }),
});
