/**
 * A workflow written in TypeScript: enrich a sales lead. `defineWorkflow()`
 * checks at compile time that steps use only the tools passed in and route only
 * to steps that exist.
 */
import { z } from 'zod';
import { defineWorkflow } from '../src/definition/define.js';
import { defineTool } from '../src/tools/define.js';

const companies: Record<string, { name: string; employees: number; industry: string; country: string }> = {
  'example.com': { name: 'Example Corp', employees: 1200, industry: 'Manufacturing', country: 'DE' },
  'tiny.io': { name: 'Tiny IO', employees: 8, industry: 'Software', country: 'US' },
};

export const fetchCompany = defineTool({
  name: 'fetch_company',
  description: 'Fetch firmographics for an email domain.',
  input: z.object({ domain: z.string().min(3) }),
  // A declared output is checked after each call and bounds `$steps.company.output` in `validate`'s worst case.
  output: z.strictObject({ domain: z.string().max(254), name: z.string().max(254), employees: z.number().int(), industry: z.string().max(60), country: z.string().max(2) }),
  run: ({ domain }) => ({ domain, ...(companies[domain] ?? { name: domain, employees: 0, industry: 'Unknown', country: 'US' }) }),
});

export const scoreLead = defineTool({
  name: 'score_lead',
  description: 'Record a lead score from 0 to 100 with the segment and a one-line reason.',
  input: z.object({
    score: z.number().int().min(0).max(100),
    segment: z.enum(['smb', 'mid_market', 'enterprise']),
    reason: z.string().min(5).max(300),
  }),
  run: (score) => score,
});

export const saveLead = defineTool({
  name: 'save_lead',
  description: 'Save the enriched lead to the CRM.',
  input: z.object({ email: z.string(), company: z.string(), score: z.number(), segment: z.string() }),
  run: (lead, { idempotencyKey }) => ({ saved: true, crmId: `L-${idempotencyKey.split(':').slice(1).join('-')}`, ...lead }),
});

export default defineWorkflow({
  id: 'lead-enrichment',
  description: 'Fetch firmographics for a lead, let Claude score it, save it to the CRM.',
  tools: [fetchCompany, scoreLead, saveLead],
  budget: { tokens: 15_000 }, // covers validate's worst case (3 attempts)
  input: { type: 'object', required: ['email'], properties: { email: { type: 'string', maxLength: 254 } } },
  steps: {
    company: { tool: 'fetch_company', with: { domain: "{% $substringAfter($input.email, '@') %}" }, next: 'score' },
    score: {
      claude: {
        tool: 'score_lead',
        prompt: 'Score this lead for a B2B analytics product: bigger companies in manufacturing score higher.',
        context: { company: { value: '{% $steps.company.output %}', maxTokens: 300 } },
        maxTokens: 300,
      },
      next: 'save',
    },
    save: {
      tool: 'save_lead',
      with: {
        email: '{% $input.email %}',
        company: '{% $steps.company.output.name %}',
        score: '{% $steps.score.output.score %}',
        segment: '{% $steps.score.output.segment %}',
      },
      next: 'done',
    },
    done: { final: true, output: { lead: '{% $steps.save.output %}', reason: '{% $steps.score.output.reason %}' } },
  },
});
