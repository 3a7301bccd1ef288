/**
 * Tools of the support-triage example: a CRM lookup, paging the on-call
 * engineer, and sending a reply to the customer.
 */
import { z } from 'zod';
import { defineTool } from '../../src/tools/define.js';

const customers: Record<string, { name: string; plan: 'free' | 'pro' | 'enterprise'; openTickets: number }> = {
  'C-310': { name: 'Northwind Traders', plan: 'enterprise', openTickets: 2 },
  'C-311': { name: 'Contoso Ltd', plan: 'pro', openTickets: 0 },
};

export const lookupCustomer = defineTool({
  name: 'lookup_customer',
  description: 'Look a customer up in the CRM.',
  input: z.object({ customerId: z.string().max(64) }),
  // A declared output is checked after each call and bounds `$steps.customer.output` in `validate`'s worst case.
  output: z.object({ customerId: z.string().max(64), name: z.string().max(100), plan: z.enum(['free', 'pro', 'enterprise']), openTickets: z.number().int() }),
  run: ({ customerId }) => ({ customerId, ...(customers[customerId] ?? { name: 'unknown', plan: 'free', openTickets: 0 }) }),
});

export const pageOncall = defineTool({
  name: 'page_oncall',
  description: 'Page the on-call engineer about an urgent ticket.',
  input: z.object({ ticketId: z.string(), summary: z.string().min(1) }),
  run: ({ ticketId }, { idempotencyKey }) => ({ paged: true, ticketId, pageId: `PG-${idempotencyKey.length}-${ticketId}` }),
});

export const sendReply = defineTool({
  name: 'send_reply',
  description: 'Send a reply to the customer who opened the ticket.',
  input: z.object({
    ticketId: z.string().describe('The ticket id, e.g. T-88'),
    reply: z.string().min(10).max(2000).describe('The reply text to send'),
    tone: z.enum(['formal', 'friendly']).describe('Tone of the reply'),
  }),
  run: (reply) => ({ sent: true, ...reply }),
});
