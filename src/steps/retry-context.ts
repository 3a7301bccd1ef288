/**
 * What a retry after an invalid tool input sends of the step's context: only
 * what the failed fields need. A long text value (a document) is cut to the
 * paragraphs that bear on the rejected fields, those that name a field (its
 * name as a label: `incidentRef` finds `Incident Ref:`) or hold the value the
 * model gave for it (`95157` finds `IR-95157`); a long text with none of
 * them is left out. Short values and structured ones go as they are. Nothing
 * is cut unless every rejected field is found in some paragraph (a field with
 * too short a name and no value to look for is found nowhere): the model may
 * need the whole context, and gets it. The first attempt saw everything;
 * a retry that resent the document would cost as much again (on the
 * benchmark, half a five-step workflow) to fix one field.
 *
 * One narrowed retry per failure: when the narrowed attempt is rejected too,
 * the next one sends the whole context (see `narrowedContext` in ./claude.ts).
 */
import type { RejectedFields } from '../compile/context.js';

/** Text values shorter than this go whole: cutting them saves little and may lose the answer. */
export const NARROW_MIN_CHARS = 1_000;
/** Field names shorter than this (normalised) are not looked for: `id` is in every other word. */
const MIN_NAME_CHARS = 4;
/** Values the model gave shorter than this are not looked for either. */
const MIN_VALUE_CHARS = 3;

/** Lowercase letters and digits only: `Incident Ref` and `incident_ref` both read `incidentref`. */
const normalise = (text: string): string => text.toLowerCase().replace(/[^a-z0-9]/g, '');

/** What to look for in a paragraph for one rejected field: its name (normalised), the scalar the model gave for it. */
interface Needle {
  readonly name: string | null;
  readonly value: string | null;
}

/** A needle for each rejected field; null when a field has neither a name nor a value long enough to look for. */
function needlesOf(rejected: RejectedFields): Needle[] | null {
  const needles: Needle[] = [];
  for (const [field, given] of Object.entries(rejected)) {
    const name = normalise(field);
    const value = typeof given === 'string' || typeof given === 'number' ? String(given).trim().toLowerCase() : '';
    const needle = { name: name.length >= MIN_NAME_CHARS ? name : null, value: value.length >= MIN_VALUE_CHARS ? value : null };
    if (needle.name === null && needle.value === null) return null;
    needles.push(needle);
  }
  return needles;
}

const paragraphsOf = (text: string): string[] => text.split(/\r?\n[ \t]*\r?\n/).filter((p) => p.trim().length > 0);

/**
 * The context a retry sends, and whether it cut anything.
 *
 * @example
 * narrowForRetry({ document: longReport, customer: 'ACME' }, { incidentRef: 95157 });
 * // { context: { document: '[Excerpt for this retry: …]\n\nIncident Ref: IR-95157\n…', customer: 'ACME' }, narrowed: true }
 */
export function narrowForRetry(
  context: Readonly<Record<string, unknown>>,
  rejected: RejectedFields,
): { context: Record<string, unknown>; narrowed: boolean } {
  const looked = needlesOf(rejected);
  const whole = { context: { ...context }, narrowed: false };
  // A field with nothing to look for could draw on any paragraph: nothing is cut.
  if (looked === null || looked.length === 0) return whole;
  /** The fields (by index) `paragraph` bears on. */
  const borne = (paragraph: string): number[] => {
    const lower = paragraph.toLowerCase();
    const flat = normalise(paragraph);
    return looked.flatMap((n, i) => ((n.value !== null && lower.includes(n.value)) || (n.name !== null && flat.includes(n.name)) ? [i] : []));
  };
  const cut: Record<string, { kept: string[]; of: number }> = {};
  const found = new Set<number>();
  for (const [key, value] of Object.entries(context)) {
    if (typeof value !== 'string' || value.length < NARROW_MIN_CHARS) continue;
    const paragraphs = paragraphsOf(value);
    const kept = paragraphs.filter((p) => {
      const fields = borne(p);
      for (const f of fields) found.add(f);
      return fields.length > 0;
    });
    cut[key] = { kept, of: paragraphs.length };
  }
  // Every rejected field must be found somewhere, or the retry could lose what one of them needs.
  if (found.size < looked.length) return whole;
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
