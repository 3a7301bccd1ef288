/**
 * What may reach the machine and the store: plain JSON values within a size
 * cap. A tool or model can hand back anything (a BigInt, a function, a cycle, a
 * 200 MB string); checked here first, such a value fails its step as
 * `invalid_output` instead of crashing the commit that would store it. The
 * same walk hides configured credentials (the model server's API key or auth
 * token, which a gateway or a model may echo into a tool input) in every
 * string and field name it copies: one `indexOf` per string per credential,
 * none when no credential is configured.
 */
import { messageOf } from '../util/error-message.js';
import { withoutConfigured } from '../util/redact.js';

/** The default cap on one step's output (and input) as JSON: 4 MiB. */
export const DEFAULT_MAX_OUTPUT_BYTES = 4 * 1024 * 1024;

export type StorableResult =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly reason: string };

class NotStorable extends Error {}

const pathOf = (path: string, key: string | number) =>
  typeof key === 'number' ? `${path}[${key}]` : /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;

/** Objects copied member by member without further checks: plain objects and arrays. */
const plainPrototypes = new Set<unknown>([Object.prototype, null, Array.prototype]);

/**
 * One walk over a value: checks it, counts its JSON bytes against a budget and
 * returns its JSON copy. `exact` counts every string's UTF-8 bytes; otherwise
 * only its UTF-16 units, a lower bound (a unit is one to three bytes), and the
 * units of all strings are summed so the caller knows how far off it can be.
 * The path of the value being walked is kept as a stack of keys and spelled
 * out only for a refusal.
 */
class Walk {
  budget: number;
  /** UTF-16 units of the strings walked (not counted exactly). */
  stringUnits = 0;
  private readonly keys: Array<string | number> = [];
  private readonly ancestors = new Set<object>();

  constructor(
    private readonly maxBytes: number,
    private readonly exact: boolean,
    /** Credentials to hide in strings and names; null when none is configured. */
    private readonly secrets: readonly string[] | null,
  ) {
    this.budget = maxBytes;
  }

  private path(): string {
    let path = '$';
    for (let i = 1; i < this.keys.length; i++) path = pathOf(path, this.keys[i]!);
    return path;
  }

  private refuse(what: string): never {
    throw new NotStorable(`${this.path()} ${what}`);
  }

  private spend(n: number): void {
    this.budget -= n;
    if (this.budget < 0) throw new NotStorable(`it is larger than the limit of ${this.maxBytes} bytes as JSON (at ${this.path()})`);
  }

  value(input: unknown, key: string | number, inArray: boolean): unknown {
    this.keys.push(key);
    let v = input;
    if (v !== null && typeof v === 'object' && typeof (v as { toJSON?: unknown }).toJSON === 'function') {
      v = (v as { toJSON: (key: string) => unknown }).toJSON(String(key));
    }
    let out: unknown;
    switch (typeof v) {
      case 'string': {
        const text = this.secrets ? withoutConfigured(v, this.secrets) : v;
        // A UTF-8 byte is at least one UTF-16 unit; count the units first so a huge string is refused before it is encoded.
        this.spend(text.length + 2);
        if (this.exact) this.spend(Buffer.byteLength(text) - text.length);
        else this.stringUnits += text.length;
        out = text;
        break;
      }
      case 'number':
        if (!Number.isFinite(v)) this.refuse(`is ${String(v)}, which JSON cannot hold`);
        this.spend(String(v).length);
        out = v;
        break;
      case 'boolean':
        this.spend(5);
        out = v;
        break;
      case 'undefined':
        this.spend(4);
        out = inArray ? null : undefined;
        break;
      case 'bigint':
        return this.refuse('is a BigInt, which JSON cannot hold');
      case 'function':
        return this.refuse('is a function');
      case 'symbol':
        return this.refuse('is a symbol');
      case 'object':
        out = v === null ? this.null() : this.object(v);
    }
    this.keys.pop();
    return out;
  }

  private null(): null {
    this.spend(4);
    return null;
  }

  private object(object: object): unknown {
    if (!plainPrototypes.has(Object.getPrototypeOf(object))) {
      if (object instanceof Map || object instanceof Set || object instanceof WeakMap || object instanceof WeakSet || object instanceof Promise) {
        this.refuse(`is a ${object.constructor.name}, which JSON would store as {}`);
      }
    }
    if (this.ancestors.has(object)) this.refuse('refers back to itself (a cycle)');
    this.ancestors.add(object);
    this.spend(2);
    let copy: unknown;
    if (Array.isArray(object)) {
      const items: unknown[] = new Array(object.length);
      for (let i = 0; i < object.length; i++) {
        this.spend(1);
        items[i] = this.value(object[i], i, true);
      }
      copy = items;
    } else {
      const out: Record<string, unknown> = {};
      const fields = object as Record<string, unknown>;
      for (const k in fields) {
        if (!Object.hasOwn(fields, k)) continue;
        const next = this.value(fields[k], k, false);
        if (next === undefined) continue;
        const name = this.secrets ? withoutConfigured(k, this.secrets) : k;
        this.spend(name.length + 4);
        out[name] = next;
      }
      copy = out;
    }
    this.ancestors.delete(object);
    return copy;
  }
}

/** Thrown by {@link Quick} for anything it does not settle itself. */
const UNSURE = Symbol('unsure');

/** Nesting {@link Quick} walks; deeper values (and cycles, which are endless) are left to {@link Walk}. */
const QUICK_DEPTH = 100;

/** The most UTF-16 units a finite number takes as JSON (`-1.7976931348623157e+308`). */
const NUMBER_UNITS = 24;

/**
 * The common case, walked fast: a value that is plainly storable, far enough
 * within the cap. It copies as {@link Walk} does but keeps no path and no
 * ancestors, and counts a lower bound of the value's JSON bytes (strings by
 * their UTF-16 units, numbers as one character) beside how far off that can
 * be; anything it cannot settle (a refusal, a value near the cap, a deep or
 * cyclic one) is thrown as {@link UNSURE} and walked again by {@link Walk},
 * which finds the place and the reason.
 */
class Quick {
  /** A lower bound of the JSON bytes, counted as {@link Walk} counts them. */
  used = 0;
  /** UTF-16 units of the strings (each up to three UTF-8 bytes). */
  units = 0;
  numbers = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly secrets: readonly string[] | null,
  ) {}

  /** The most the value can take as JSON, by the counts so far. */
  bound(): number {
    return this.used + 2 * this.units + (NUMBER_UNITS - 1) * this.numbers;
  }

  value(input: unknown, key: string | number, inArray: boolean, depth: number): unknown {
    let v = input;
    if (v !== null && typeof v === 'object' && typeof (v as { toJSON?: unknown }).toJSON === 'function') {
      v = (v as { toJSON: (key: string) => unknown }).toJSON(String(key));
    }
    switch (typeof v) {
      case 'string': {
        const text = this.secrets ? withoutConfigured(v, this.secrets) : v;
        this.used += text.length + 2;
        this.units += text.length;
        if (this.used > this.maxBytes) throw UNSURE;
        return text;
      }
      case 'number':
        if (!Number.isFinite(v)) throw UNSURE;
        this.used += 1;
        this.numbers++;
        return v;
      case 'boolean':
        this.used += 5;
        return v;
      case 'undefined':
        this.used += 4;
        return inArray ? null : undefined;
      case 'object':
        if (v === null) {
          this.used += 4;
          return null;
        }
        return this.object(v, depth);
      default:
        throw UNSURE;
    }
  }

  private object(object: object, depth: number): unknown {
    if (depth >= QUICK_DEPTH || !plainPrototypes.has(Object.getPrototypeOf(object))) throw UNSURE;
    this.used += 2;
    if (Array.isArray(object)) {
      const items: unknown[] = new Array(object.length);
      for (let i = 0; i < object.length; i++) items[i] = this.value(object[i], i, true, depth + 1);
      this.used += object.length;
      return items;
    }
    const out: Record<string, unknown> = {};
    const fields = object as Record<string, unknown>;
    for (const k in fields) {
      if (!Object.hasOwn(fields, k)) continue;
      const next = this.value(fields[k], k, false, depth + 1);
      if (next === undefined) continue;
      const name = this.secrets ? withoutConfigured(k, this.secrets) : k;
      this.used += name.length + 4;
      out[name] = next;
    }
    return out;
  }
}

/** The JSON copy of `value` when {@link Quick} settles it as storable within `maxBytes`; {@link UNSURE} otherwise. */
function quickly(value: unknown, maxBytes: number, secrets: readonly string[] | null): unknown {
  const quick = new Quick(maxBytes, secrets);
  try {
    const copy = quick.value(value, '', false, 0);
    return quick.bound() <= maxBytes ? copy : UNSURE;
  } catch (error) {
    if (error === UNSURE || error instanceof RangeError) return UNSURE;
    throw error;
  }
}

function walk(value: unknown, maxBytes: number, exact: boolean, secrets: readonly string[] | null): { copy: unknown; walk: Walk } {
  const walker = new Walk(maxBytes, exact, secrets);
  return { copy: walker.value(value, '', false), walk: walker };
}

/**
 * Checks that `value` is plain JSON data (after `toJSON`, as `JSON.stringify`
 * sees it) of at most `maxBytes` UTF-8 bytes, and returns the JSON copy the
 * stores would read back. Rejected, with the path of the first offender: a
 * BigInt, a function or symbol where a value belongs, a non-finite number, a
 * Map, Set or Promise (JSON would silently drop their contents), a cycle, and
 * anything past the cap (checked while walking, so a huge string is refused
 * before it is copied). `undefined` follows JSON: an omitted property, `null`
 * in an array. Each of `secrets` (configured credentials, see
 * `credentialsOf`) is replaced by `***` wherever a string or a field name of
 * the copy holds it.
 *
 * @example
 * ```ts
 * storable({ total: 10n }, 1024); // { ok: false, reason: '$.total is a BigInt, which JSON cannot hold' }
 * storable({ note: 'key gw-0123456789abcdef' }, 1024, ['gw-0123456789abcdef']); // { ok: true, value: { note: 'key ***' } }
 * ```
 */
export function storable(value: unknown, maxBytes: number, secrets: readonly string[] = []): StorableResult {
  const hide = secrets.length > 0 ? secrets : null;
  try {
    const quick = quickly(value, maxBytes, hide);
    if (quick !== UNSURE) return { ok: true, value: quick === undefined ? null : quick };
    // Strings are counted by their length first; only a value that might pass the cap once its strings are
    // counted as UTF-8 (or one refused by the cap, for the exact place) is walked again, counting exactly.
    let result: { copy: unknown; walk: Walk } | null = null;
    try {
      result = walk(value, maxBytes, false, hide);
    } catch (error) {
      if (!(error instanceof NotStorable && error.message.startsWith('it is larger'))) throw error;
    }
    if (result === null || maxBytes - result.walk.budget + 2 * result.walk.stringUnits > maxBytes) result = walk(value, maxBytes, true, hide);
    return { ok: true, value: result.copy === undefined ? null : result.copy };
  } catch (error) {
    if (error instanceof NotStorable) return { ok: false, reason: error.message };
    if (error instanceof RangeError) return { ok: false, reason: 'it is nested too deeply to store' };
    return { ok: false, reason: `it could not be read: ${messageOf(error)}` };
  }
}
