/**
 * What a retry after an invalid tool input sends of a step's context (`narrowForRetry`): the paragraphs of a long
 * text that bear on the rejected fields, by label or by the value the model gave; everything when none does.
 */
import { describe, expect, it } from 'vitest';
import { lastErrorOf } from '../../src/compile/context.js';
import { NARROW_MIN_CHARS, narrowForRetry } from '../../src/steps/retry-context.js';

const filler = (n: number) => `Paragraph ${n}: the team reviewed the quarter and noted several late updates from operations while customers waited.`;
/** A document of `count` filler paragraphs with `inserted` after the second. */
function documentWith(inserted: string, count = 12): string {
  const paragraphs = Array.from({ length: count }, (_, i) => filler(i + 1));
  paragraphs.splice(2, 0, inserted);
  return paragraphs.join('\n\n');
}
const labels = 'Incident Ref: IR-95157\nService Name: payments\nImpact Minutes: 303';

describe('narrowForRetry', () => {
  it('cuts a long text to the paragraph that labels a rejected field, saying what it left out', () => {
    const document = documentWith(labels);
    expect(document.length).toBeGreaterThanOrEqual(NARROW_MIN_CHARS);
    const { context, narrowed } = narrowForRetry({ document, customer: 'ACME' }, { incidentRef: null });
    expect(narrowed).toBe(true);
    expect(context['customer']).toBe('ACME');
    const text = context['document'] as string;
    expect(text).toContain(labels);
    expect(text).toContain('the 1 of 13 paragraphs that bear on incidentRef');
    expect(text).not.toContain('Paragraph 1:');
    expect(text.length).toBeLessThan(document.length / 4);
  });

  it('finds a paragraph by the value the model gave, when no label names the field', () => {
    const document = documentWith('The outage was filed under IR-95157 by the on-call engineer.');
    const { context, narrowed } = narrowForRetry({ document }, { ref: 95157 });
    expect(narrowed).toBe(true);
    expect(context['document']).toContain('filed under IR-95157');
    expect(context['document']).not.toContain('Paragraph 3:');
  });

  it('sends everything when no paragraph bears on the fields, and leaves short and structured values whole', () => {
    const document = documentWith('Nothing here names the field.');
    const structured = { lines: [{ sku: 'A-1' }] };
    expect(narrowForRetry({ document, structured }, { incidentRef: 42 })).toEqual({ context: { document, structured }, narrowed: false });
    // A short text is never cut, even when it names the field.
    const short = `${labels}\n\nSomething else.`;
    expect(narrowForRetry({ short }, { incidentRef: null })).toEqual({ context: { short }, narrowed: false });
  });

  it('leaves out a long text with nothing on the fields when another bears on them; ignores too-short names and values', () => {
    const document = documentWith(labels);
    const notes = documentWith('A paragraph about the weather.');
    const { context } = narrowForRetry({ document, notes }, { incidentRef: null });
    expect(context['notes']).toBe('[Left out of this retry: 13 paragraphs with nothing on incidentRef; the first attempt had them.]');
    // `id` and `ab` would match almost anything: not looked for, so nothing is cut.
    expect(narrowForRetry({ document }, { id: 'ab' }).narrowed).toBe(false);
    // A boolean value says nothing about where the answer is.
    expect(narrowForRetry({ document }, { flag: true }).narrowed).toBe(false);
  });

  it('cuts nothing unless every rejected field is found; reads paragraphs of Windows text too', () => {
    const document = documentWith(labels);
    // `vendorCode` is nowhere in the document: the retry may need any of it.
    expect(narrowForRetry({ document }, { incidentRef: null, vendorCode: 'V-77' }).narrowed).toBe(false);
    expect(narrowForRetry({ document }, { incidentRef: null, serviceName: 'pay' }).narrowed).toBe(true);
    const windows = document.replace(/\n/g, '\r\n');
    const { context, narrowed } = narrowForRetry({ document: windows }, { incidentRef: null });
    expect(narrowed).toBe(true);
    expect(context['document']).toContain('Incident Ref: IR-95157');
    expect(context['document']).not.toContain('Paragraph 1:');
  });
});

describe('lastErrorOf', () => {
  it("gives a step its own last failure, not a sibling's; a failure stored without its step goes to any", () => {
    const failure = { kind: 'invalid_data' as const, message: 'bad', step: 'a', rejected: { incidentRef: null } };
    expect(lastErrorOf({ lastError: failure }, 'a')).toBe(failure);
    expect(lastErrorOf({ lastError: failure }, 'b')).toBeNull();
    const old = { kind: 'tool_error' as const, message: 'boom' };
    expect(lastErrorOf({ lastError: old }, 'b')).toBe(old);
    expect(lastErrorOf({ lastError: null }, 'a')).toBeNull();
  });
});
