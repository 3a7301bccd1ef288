/**
 * Regular expressions for JSONata and for the JSON Schema `pattern` and
 * `patternProperties` of definitions (through Ajv's `code.regExp`), matched by
 * re2js (a port of RE2: automata, no backtracking) so matching takes time
 * linear in the input and no pattern can hang a run, whatever text (a model's
 * reply, a run's input) it is matched against: `/^(a+)+$/` on "aaaa…X"
 * answers at once, where the native `RegExp` backtracks for minutes.
 *
 * {@link LinearRegExp} is the small part of the `RegExp` interface jsonata's
 * `RegexEngine` option uses (`new RegexEngine(regexLiteral)`, then
 * `lastIndex` and `exec`), so `$match`, `$contains`, `$split`, `$replace`,
 * `~>` and regex literals with flags `i` and `m` all go through it. Patterns
 * are written in JavaScript syntax and translated; what RE2 cannot express
 * (backreferences `\1`, lookahead `(?=…)` `(?!…)`, lookbehind with a capture
 * group) is refused with a message naming the pattern. Captureless
 * lookbehind is supported. Small differences from the native engine remain:
 * `\s` is ASCII whitespace only, `.` does not match `\n` but does match `\r`,
 * `\u2028` and `\u2029`, and `\p{…}` is a Unicode class.
 */
import { RE2JS } from 're2js';
import { StepwiseError } from '../errors.js';
import { BoundedMap } from '../util/bounded-map.js';
import { messageOf } from '../util/error-message.js';

const cacheSize = 500;
/** Compiled patterns are immutable (matching state lives in a matcher), so one cache per process is safe. */
const cache = new BoundedMap<string, RE2JS>(cacheSize);

const flagBits: Readonly<Record<string, number>> = {
  i: RE2JS.CASE_INSENSITIVE,
  m: RE2JS.MULTILINE,
  s: RE2JS.DOTALL,
  g: 0,
  // JSON Schema patterns are ECMA-262 with `u` (Ajv passes it): RE2 always matches by code point.
  u: 0,
};

/**
 * A `RegExp` look-alike backed by RE2: `exec` and `test` honour `lastIndex`
 * with the `g` flag as the native class does. Throws {@link StepwiseError}
 * `expression_failed` for a pattern RE2 cannot match.
 *
 * @example
 * jsonata('$match($input.s, /(a+)+$/)', { RegexEngine: LinearRegExp as unknown as RegExpConstructor });
 */
export class LinearRegExp {
  readonly source: string;
  readonly flags: string;
  readonly global: boolean;
  lastIndex = 0;
  readonly #pattern: RE2JS;

  constructor(pattern: RegExp | string, flags?: string) {
    this.source = typeof pattern === 'string' ? pattern : pattern.source;
    this.flags = flags ?? (typeof pattern === 'string' ? '' : pattern.flags);
    this.global = this.flags.includes('g');
    this.#pattern = compile(this.source, this.flags);
  }

  exec(input: string): RegExpExecArray | null {
    const from = this.global ? this.lastIndex : 0;
    const matcher = from <= input.length ? this.#pattern.matcher(input) : undefined;
    if (!matcher?.find(from)) {
      if (this.global) this.lastIndex = 0;
      return null;
    }
    const groups: (string | undefined)[] = [];
    for (let group = 0; group <= matcher.groupCount(); group++) groups.push(matcher.group(group) ?? undefined);
    const match = Object.assign(groups, { index: matcher.start(), input }) as unknown as RegExpExecArray;
    if (this.global) this.lastIndex = matcher.end();
    return match;
  }

  test(input: string): boolean {
    if (!this.global) return this.#pattern.matcher(input).find();
    return this.exec(input) !== null;
  }

  toString(): string {
    return `/${this.source}/${this.flags}`;
  }
}

type Compiled = { readonly ok: true; readonly pattern: RE2JS } | { readonly ok: false; readonly why: string; readonly cause?: unknown };

function compile(source: string, flags: string): RE2JS {
  const compiled = cachedCompile(source, flags);
  if (!compiled.ok) throw refusal(source, flags, compiled.why, compiled.cause);
  return compiled.pattern;
}

function cachedCompile(source: string, flags: string): Compiled {
  const key = `${flags}/${source}`;
  const pattern = cache.touch(key);
  if (pattern) return { ok: true, pattern };
  const compiled = compileNew(source, flags);
  if (compiled.ok) cache.set(key, compiled.pattern);
  return compiled;
}

function compileNew(source: string, flags: string): Compiled {
  let bits = RE2JS.LOOKBEHINDS;
  for (const flag of flags) {
    const bit = flagBits[flag];
    if (bit === undefined) return { ok: false, why: `the flag "${flag}" is not supported (use i, m or s)` };
    bits |= bit;
  }
  try {
    return { ok: true, pattern: RE2JS.compile(RE2JS.translateRegExp(source), bits) };
  } catch (error) {
    return { ok: false, why: explain(messageOf(error)), cause: error };
  }
}

/**
 * Why {@link LinearRegExp} cannot match `source` with `flags` ("it uses a backreference, which …"); null when it can.
 * Lets validation refuse a pattern before any text is matched against it.
 *
 * @example
 * unmatchableReason('^(a)\\1$'); // 'it uses a backreference, which the linear-time matcher (RE2) cannot match (…)'
 */
export function unmatchableReason(source: string, flags = ''): string | null {
  const compiled = cachedCompile(source, flags);
  return compiled.ok ? null : compiled.why;
}

/**
 * The regular-expression engine Ajv is made with (`code: { regExp: schemaRegExp }`): every JSON Schema `pattern`
 * and `patternProperties` key is a {@link LinearRegExp}. Ajv calls it with the pattern and the flag `u`, and uses `test`.
 *
 * @example
 * new Ajv2020({ code: { regExp: schemaRegExp } }).compile({ type: 'string', pattern: '^([a-z]+)+$' })('a'.repeat(60) + '!'); // false, at once
 */
export const schemaRegExp = Object.assign((pattern: string, flags: string): LinearRegExp => new LinearRegExp(pattern, flags), {
  // What Ajv's standalone code would call; Stepwise compiles schemas in process only.
  code: 'schemaRegExp',
});

function explain(reason: string): string {
  const detail = reason.replace(/^error parsing regexp: /, '');
  if (/invalid escape sequence: `\\[1-9]/.test(detail) || /`\\k</.test(detail)) {
    return `it uses a backreference, which the linear-time matcher (RE2) cannot match (${detail})`;
  }
  if (/`\(\?[=!]/.test(detail)) return `it uses lookahead, which the linear-time matcher (RE2) cannot match (${detail})`;
  if (/lookbehind|`\(\?<[=!]/.test(detail)) {
    return `it uses a lookbehind the linear-time matcher (RE2) cannot match; only lookbehind without capture groups is supported (${detail})`;
  }
  return `the linear-time matcher (RE2) rejects it: ${detail}`;
}

function refusal(source: string, flags: string, why: string, cause?: unknown): StepwiseError {
  return new StepwiseError('expression_failed', `regular expression /${source}/${flags.replace('g', '')} cannot be used: ${why}; rewrite it without that feature.`, {
    cause,
  });
}

/**
 * Why {@link LinearRegExp} refuses a regular expression literal of a parsed
 * JSONata tree (one message); `null` when it accepts them all.
 * Lets validation report a pattern before anything is evaluated.
 */
export function regexIssue(ast: unknown): string | null {
  const seen = new Set<object>();
  const pending: unknown[] = [ast];
  while (pending.length > 0) {
    const node = pending.pop();
    if (typeof node !== 'object' || node === null || seen.has(node) || node instanceof RegExp) continue;
    seen.add(node);
    const record = node as Record<string, unknown>;
    if (record['type'] === 'sort') {
      // JSONata's order-by runs its own merge sort, which copies the array at every comparison
      // (quadratic memory) and is invisible to the step budget: 100,000 items exhaust the heap.
      return 'the order-by operator ^( ) is not supported (JSONata sorts with quadratic memory there); use $sort(array, function($a, $b) { … }), which is bounded';
    }
    if (record['type'] === 'regex' && record['value'] instanceof RegExp) {
      try {
        new LinearRegExp(record['value']);
      } catch (error) {
        return messageOf(error);
      }
    }
    pending.push(...Object.values(record));
  }
  return null;
}
