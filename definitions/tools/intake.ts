/** Tools of the invoice intake example (definitions/invoice-intake.yaml): file the decision the sub-workflow reached. */
import { z } from 'zod';
import { defineTool } from '../../src/tools/define.js';

export const fileDecision = defineTool({
  name: 'file_decision',
  description: 'File the decision on an invoice in the records system.',
  input: z.object({ decision: z.string(), invoiceNumber: z.string() }),
  run: ({ decision, invoiceNumber }) => ({ filed: true, invoiceNumber, decision }),
});
