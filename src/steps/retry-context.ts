/**
 * What a retry after an invalid tool input sends of the step's context: only
 * what the failed fields need. A long text value (a document) is cut to the
 * paragraphs that bear on the rejected fields, those that name a field (its
 * name as a label: `incidentRef` finds `Incident Ref:`) or hold the value the
 * model gave for it (`95157` finds `IR-95157`); a long text with none of
 * them is left out. Short values and structured ones go as they are. When no
 * paragraph of any long text bears on the fields, nothing is cut: the model
 * may need the whole context, and gets it. The first attempt saw everything;
 * a retry that resent the document would cost as much again (on the
 * benchmark, half a five-step workflow) to fix one field.
 *
 * One narrowed retry per failure: when the narrowed attempt is rejected too,
 * the next one sends the whole context (see `narrowedContext` in ./claude.ts).
 */

/** Text values shorter than this go whole: cutting them saves little and may lose the answer. */
export const NARROW_MIN_CHARS = 1_000;
/** Field names shorter than this (normalised) are not looked for: `id` is in every other word. */
const MIN_NAME_CHARS = 4;
/** Values the model gave shorter than this are not looked for either. */
const MIN_VALUE_CHARS = 3;

/** Lowercase letters and digits only: `Incident Ref` and `incident_ref` both read `incidentref`. */
const normalise = (text: string): string => text.toLowerCase().replace(/[^a-z0-9]/g, '');

/** What to look for: each rejected field's name, and the scalar the model gave for it. */
function needlesOf(rejected: Readonly<Record<string, string | number | boolean | null>>): { names: string[]; values: string[] } {
  const names = Object.keys(rejected).map(normalise).filter((n) => n.length >= MIN_NAME_CHARS);
  const values = Object.values(rejected)
    .filter((v): v is string | number => typeof v === 'string' || typeof v === 'number')
    .map((v) => String(v).trim().toLowerCase())
    .filter((v) => v.length >= MIN_VALUE_CHARS);
  return { names, values };
}

const paragraphsOf = (text: string): string[] => text.split(/\n[ \t]*\n/).filter((p) => p.trim().length > 0);

/**
 * The context a retry sends, and whether it cut anything.
 *
 * @example
 * narrowForRetry({ document: longReport, customer: 'ACME' }, { incidentRef: 95157 });
 * // { context: { document: '[Excerpt for this retry: …]\n\nIncident Ref: IR-95157\n…', customer: 'ACME' }, narrowed: true }
 */
export function narrowForRetry(
  context: Readonly<Record<string, unknown>>,
  rejected: Readonly<Record<string, string | number | boolean | null>>,
): { context: Record<string, unknown>; narrowed: boolean } {
  const { names, values } = needlesOf(rejected);
  const whole = { context: { ...context }, narrowed: false };
  if (names.length === 0 && values.length === 0) return whole;
  const bears = (paragraph: string): boolean => {
    const lower = paragraph.toLowerCase();
    if (values.some((v) => lower.includes(v))) return true;
    const flat = normalise(paragraph);
    return names.some((n) => flat.includes(n));
  };
  const cut: Record<string, { kept: string[]; of: number }> = {};
  let found = 0;
  for (const [key, value] of Object.entries(context)) {
    if (typeof value !== 'string' || value.length < NARROW_MIN_CHARS) continue;
    const paragraphs = paragraphsOf(value);
    const kept = paragraphs.filter(bears);
    found += kept.length;
    cut[key] = { kept, of: paragraphs.length };
  }
  if (found === 0) return whole;
  const fields = Object.keys(rejected).join(', ');
  const narrowed: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(context)) {
    const c = cut[key];
    if (!c) narrowed[key] = value;
    else if (c.kept.length === 0) narrowed[key] = `[Left out of this retry: ${c.of} paragraphs with nothing on ${fields}; the first attempt had them.]`;
    else narrowed[key] = `[Excerpt for this retry: the ${c.kept.length} of ${c.of} paragraphs that bear on ${fields}; the first attempt had them all.]\n\n${c.kept.join('\n\n[…]\n\n')}`;
  }
  return { context: narrowed, narrowed: true };
}
