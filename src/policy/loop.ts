/**
 * Loop detection: tool inputs are normalised so that equal or near-equal
 * inputs (key order, whitespace, case, numeric noise) get the same
 * fingerprint, and a step that keeps sending the same fingerprint is stopped.
 *
 * The normalisation, exactly:
 * - objects: keys sorted by UTF-16 code unit; members whose value is
 *   `undefined`, a function or a symbol are dropped; values normalised;
 * - arrays: order kept, items normalised (`undefined`, functions → `null`);
 * - strings: Unicode NFKC, trimmed, runs of whitespace → one space, lower case;
 * - numbers, with tolerance `t` (default 0.01): `|x| < 1e-12` (and `-0`)
 *   become `0`; non-finite numbers become `null`; otherwise `|x|` falls in
 *   the logarithmic bucket `k = round(ln|x| / ln(1 + t))` and becomes the
 *   bucket's centre `(1 + t)^k`, printed with `p = ceil(1 - log10 t) + 1`
 *   significant digits, sign kept. Each bucket spans a factor `1 + t`, so two
 *   numbers that normalise equal differ by less than `t` relative to the
 *   smaller; two numbers closer than that normalise equal unless a bucket
 *   edge falls between them (for noise of relative size `d`, that happens
 *   with probability about `d / t`). Zero never equals a non-zero number
 *   above 1e-12, and `x` never equals `-x`. A tolerance of 0 keeps numbers
 *   exact. Integers are treated like any number: ids that differ by less
 *   than `t` relative (1000001 and 1000002) normalise equal, so keep ids in
 *   strings;
 * - `true`, `false`, `null` as they are; other values via `toJSON` when they
 *   have one, else as strings.
 */
import { createHash } from 'node:crypto';

/** Options of the normalisation. */
export interface LoopOptions {
  /** Relative tolerance under which numbers count as equal (default 0.01). */
  readonly tolerance?: number;
}

const nearZero = 1e-12;

/**
 * The canonical form of a tool input used to compare inputs (see the module
 * comment for the exact rules).
 *
 * @example
 * normalizeForLoop({ b: ' Hello   World ', a: 100.0004 }); // { a: 100.2, b: 'hello world' }
 */
export function normalizeForLoop(value: unknown, options: LoopOptions = {}): unknown {
  const tolerance = options.tolerance ?? 0.01;
  const digits = tolerance > 0 ? Math.ceil(1 - Math.log10(tolerance)) + 1 : 0;
  const logStep = Math.log1p(tolerance);
  const normalise = (item: unknown): unknown => {
    if (item === null || typeof item === 'boolean') return item;
    if (typeof item === 'string') return item.normalize('NFKC').trim().replace(/\s+/g, ' ').toLowerCase();
    if (typeof item === 'number') return normaliseNumber(item, tolerance, logStep, digits);
    if (typeof item === 'bigint') return normaliseNumber(Number(item), tolerance, logStep, digits);
    if (item === undefined || typeof item === 'function' || typeof item === 'symbol') return undefined;
    if (Array.isArray(item)) return item.map((entry) => normalise(entry) ?? null);
    const withJson = item as { toJSON?: () => unknown };
    if (typeof withJson.toJSON === 'function') return normalise(withJson.toJSON());
    if (typeof item === 'object') {
      const entries: [string, unknown][] = [];
      for (const key of Object.keys(item).sort()) {
        const normalised = normalise((item as Record<string, unknown>)[key]);
        if (normalised !== undefined) entries.push([key, normalised]);
      }
      return Object.fromEntries(entries);
    }
    return String(item);
  };
  return normalise(value) ?? null;
}

function normaliseNumber(value: number, tolerance: number, logStep: number, digits: number): number | null {
  if (!Number.isFinite(value)) return null;
  if (Math.abs(value) < nearZero) return 0;
  if (tolerance <= 0) return value;
  const bucket = Math.round(Math.log(Math.abs(value)) / logStep);
  const centre = Number(Math.exp(bucket * logStep).toPrecision(digits));
  return value < 0 ? -centre : centre;
}

/** JSON with object keys in sorted order whatever the engine's property order (integer-like keys included). */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    return `{${Object.keys(record)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * A stable fingerprint of the normalised input: 128 bits of SHA-256 of its
 * canonical JSON, base64url. Equal across processes and machines.
 *
 * @example
 * loopFingerprint({ q: 'Invoice 42' }) === loopFingerprint({ q: '  invoice   42 ' }); // true
 */
export function loopFingerprint(value: unknown, options: LoopOptions = {}): string {
  const json = canonicalJson(normalizeForLoop(value, options));
  return createHash('sha256').update(json).digest('base64url').slice(0, 22);
}

/**
 * How many times `fingerprint` occurs in `history`.
 *
 * @example
 * countRepeats(['a', 'b', 'a'], 'a'); // 2
 */
export function countRepeats(history: readonly string[], fingerprint: string): number {
  let count = 0;
  for (const entry of history) if (entry === fingerprint) count++;
  return count;
}
