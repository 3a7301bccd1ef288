/**
 * Mappings: JSON values from a definition whose strings may hold `{% expr %}`.
 * A string that is exactly one `{% expr %}` (whitespace around allowed) takes
 * the expression's value, of any JSON type; a string mixing text and
 * `{% … %}` parts is a template whose parts are interpolated; objects and
 * arrays are mapped member by member; anything else is a constant.
 *
 * Template parts are rendered like JSONata's `$string`: strings as they are,
 * numbers, booleans and `null` as their JSON text, objects and arrays as
 * JSON; a part that selects nothing renders as the empty string. An
 * expression cannot contain the text `%}`.
 */
import { StepwiseError } from '../errors.js';
import { BoundedMap } from '../util/bounded-map.js';
import {
  compileExpression,
  evaluateExpression,
  lookupNow,
  syntaxProblem,
  UNANSWERED,
  type CompiledExpression,
  type ExpressionLimits,
  type Scope,
} from './expression.js';
import { messageOf } from '../util/error-message.js';

/** A location inside a mapping: object keys and array indexes from the root. */
export type MappingPath = (string | number)[];

/** A compiled mapping; build it with {@link compileMapping}, run it with {@link evaluateMapping}. */
export type Mapping =
  | { readonly kind: 'constant'; readonly value: unknown }
  | { readonly kind: 'expression'; readonly path: MappingPath; readonly expression: CompiledExpression }
  | { readonly kind: 'template'; readonly path: MappingPath; readonly parts: readonly (string | CompiledExpression)[] }
  | { readonly kind: 'array'; readonly items: readonly Mapping[] }
  | { readonly kind: 'object'; readonly entries: readonly (readonly [string, Mapping])[] };

/** One problem found by {@link expressionIssues}. */
export interface ExpressionIssue {
  readonly path: MappingPath;
  readonly message: string;
  /** Where in the string at `path` the problem is (an index into it), when that is known. */
  readonly at?: number;
}

const whole = /^\s*\{%((?:(?!%\})[\s\S])*)%\}\s*$/;
const part = /\{%((?:(?!%\})[\s\S])*)%\}/g;

/** Text, or an expression with where its text starts in the string (`at`, just past its `{%`). */
type Piece = string | { readonly expr: string; readonly at: number };

/** A `{%` with no `%}` after it, at index `at` of the string. */
class Unclosed extends Error {
  constructor(readonly at: number) {
    super('`{%` is not closed by `%}`');
  }
}

/** Splits a string into text and expression pieces; `null` when it holds no `{%`. */
function split(text: string): Piece[] | null {
  if (!text.includes('{%')) return null;
  const wholeMatch = whole.exec(text);
  if (wholeMatch) return [{ expr: wholeMatch[1] as string, at: text.indexOf('{%') + 2 }];
  const pieces: Piece[] = [];
  let last = 0;
  for (const match of text.matchAll(part)) {
    const index = match.index;
    if (index > last) pieces.push(text.slice(last, index));
    pieces.push({ expr: match[1] as string, at: index + 2 });
    last = index + match[0].length;
  }
  const rest = text.slice(last);
  if (rest.includes('{%')) throw new Unclosed(last + rest.indexOf('{%'));
  if (rest) pieces.push(rest);
  return pieces;
}

function hasExpression(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('{%');
  if (Array.isArray(value)) return value.some(hasExpression);
  if (isRecord(value)) return Object.values(value).some(hasExpression);
  return false;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function formatPath(path: MappingPath): string {
  return path.length ? ` at ${path.map((key) => (typeof key === 'number' ? `[${key}]` : `.${key}`)).join('').slice(1)}` : '';
}

/**
 * Compiles every expression of `value` once. Throws {@link StepwiseError}
 * `expression_failed` naming the expression, its path and the position of a
 * syntax error.
 *
 * @example
 * const mapping = compileMapping({ vendorId: '{% $steps.extract.output.vendorId %}', note: 'Total: {% $input.total %} USD' });
 * await evaluateMapping(mapping, { input: { total: 5 }, steps: { extract: { output: { vendorId: 'v1' } } } });
 * // { vendorId: 'v1', note: 'Total: 5 USD' }
 */
export function compileMapping(value: unknown, limits: ExpressionLimits = {}, path: MappingPath = []): Mapping {
  if (!hasExpression(value)) return { kind: 'constant', value };
  if (Array.isArray(value)) {
    return { kind: 'array', items: value.map((item, index) => compileMapping(item, limits, [...path, index])) };
  }
  if (isRecord(value)) {
    return {
      kind: 'object',
      entries: Object.entries(value).map(([key, item]) => [key, compileMapping(item, limits, [...path, key])] as const),
    };
  }
  const text = value as string;
  try {
    const pieces = split(text) ?? [text];
    const compiled = pieces.map((piece) => (typeof piece === 'string' ? piece : compileExpression(piece.expr, limits)));
    const [first] = compiled;
    if (compiled.length === 1 && first !== undefined && typeof first !== 'string') {
      return { kind: 'expression', path, expression: first };
    }
    return { kind: 'template', path, parts: compiled };
  } catch (error) {
    const where = formatPath(path);
    const message =
      error instanceof StepwiseError ? `${error.message}${where}` : `${(error as Error).message}${where} in "${text}"`;
    throw new StepwiseError('expression_failed', message, { cause: error });
  }
}

/** Compiled mappings of definition values, which never change once loaded: each is compiled once per process. */
const compiledValues = new WeakMap<object, Mapping>();
/** The same for definition strings (a final step's `output: "{% ... %}"`), by text: the oldest go past this many. */
const MAX_COMPILED_TEXTS = 1000;
const compiledTexts = new BoundedMap<string, Mapping>(MAX_COMPILED_TEXTS);

/**
 * {@link compileMapping} with the default limits, compiled once for each
 * object: for the values of a loaded definition (a step's `with:`, `context:`,
 * `output:`), which are never changed after loading.
 */
export function definitionMapping(value: unknown): Mapping {
  if (typeof value === 'string') {
    let mapping = compiledTexts.get(value);
    if (!mapping) {
      mapping = compileMapping(value);
      compiledTexts.set(value, mapping);
    }
    return mapping;
  }
  if (typeof value !== 'object' || value === null) return compileMapping(value);
  let mapping = compiledValues.get(value);
  if (!mapping) {
    mapping = compileMapping(value);
    compiledValues.set(value, mapping);
  }
  return mapping;
}

/**
 * Evaluates a compiled mapping against `scope`, one expression after the
 * other (each under its own time limit). Constant parts come back as fresh
 * copies, so callers may mutate the result.
 *
 * @example
 * await evaluateMapping(compileMapping('{% $input.items[0] %}'), { input: { items: [{ id: 1 }] }, steps: {} }); // { id: 1 }
 */
export async function evaluateMapping(mapping: Mapping, scope: Scope): Promise<unknown> {
  let now: unknown;
  try {
    now = evaluateNow(mapping, scope);
  } catch {
    now = UNANSWERED; // evaluated again below, where the failure is reported with its path
  }
  return now === UNANSWERED ? evaluateLater(mapping, scope) : now;
}

/** Sets `key` as an own data property (a `"__proto__"` key stays data, as with `Object.fromEntries`). */
function setField(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

/** A fresh copy of a constant part: plain objects and arrays member by member, anything else as `structuredClone` copies it. */
function copyConstant(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return typeof value === 'function' || typeof value === 'symbol' ? structuredClone(value) : value;
  if (Array.isArray(value)) return value.map(copyConstant);
  const prototype: unknown = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return structuredClone(value);
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) setField(copy, key, copyConstant((value as Record<string, unknown>)[key]));
  return copy;
}

/**
 * The mapping's value when it needs no evaluator (constants and plain
 * lookups, the commonest mappings), computed without awaiting anything; or
 * {@link UNANSWERED} when some part needs JSONata.
 */
function evaluateNow(mapping: Mapping, scope: Scope): unknown {
  switch (mapping.kind) {
    case 'constant':
      return copyConstant(mapping.value);
    case 'expression':
      return lookupNow(mapping.expression, scope);
    case 'template': {
      let text = '';
      for (const piece of mapping.parts) {
        if (typeof piece === 'string') {
          text += piece;
          continue;
        }
        const value = lookupNow(piece, scope);
        if (value === UNANSWERED) return UNANSWERED;
        text += render(value);
      }
      return text;
    }
    case 'array': {
      const items: unknown[] = [];
      for (const item of mapping.items) {
        const value = evaluateNow(item, scope);
        if (value === UNANSWERED) return UNANSWERED;
        items.push(value);
      }
      return items;
    }
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [key, item] of mapping.entries) {
        const value = evaluateNow(item, scope);
        if (value === UNANSWERED) return UNANSWERED;
        setField(out, key, value);
      }
      return out;
    }
  }
}

/** {@link evaluateMapping} through JSONata's evaluator, one expression after the other. */
async function evaluateLater(mapping: Mapping, scope: Scope): Promise<unknown> {
  switch (mapping.kind) {
    case 'constant':
      return copyConstant(mapping.value);
    case 'expression':
      return evaluateAt(mapping.expression, scope, mapping.path);
    case 'template': {
      let text = '';
      for (const piece of mapping.parts) {
        text += typeof piece === 'string' ? piece : render(await evaluateAt(piece, scope, mapping.path));
      }
      return text;
    }
    case 'array': {
      const items: unknown[] = [];
      for (const item of mapping.items) items.push(await evaluateLater(item, scope));
      return items;
    }
    case 'object': {
      const entries: [string, unknown][] = [];
      for (const [key, item] of mapping.entries) entries.push([key, await evaluateLater(item, scope)]);
      // fromEntries defines own properties, so a "__proto__" key stays data.
      return Object.fromEntries(entries);
    }
  }
}

async function evaluateAt(expression: CompiledExpression, scope: Scope, path: MappingPath): Promise<unknown> {
  if (path.length === 0) return evaluateExpression(expression, scope);
  try {
    return await evaluateExpression(expression, scope);
  } catch (error) {
    if (!(error instanceof StepwiseError)) throw error;
    throw new StepwiseError(error.code, `${error.message.replace(/[.;]?$/, '')}${formatPath(path)}.`, { cause: error.cause });
  }
}

function render(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}

/**
 * Syntax problems of every expression in `value`, with their paths, for
 * definition validation. Parses without evaluating and never throws.
 *
 * @example
 * expressionIssues({ when: '{% $input.total > %}' });
 * // [{ path: ['when'], message: 'Syntax error in expression ` $input.total > ` at position 16: …' }]
 */
export function expressionIssues(value: unknown, path: MappingPath = []): ExpressionIssue[] {
  if (Array.isArray(value)) return value.flatMap((item, index) => expressionIssues(item, [...path, index]));
  if (isRecord(value)) return Object.entries(value).flatMap(([key, item]) => expressionIssues(item, [...path, key]));
  if (typeof value !== 'string') return [];
  let pieces: Piece[] | null;
  try {
    pieces = split(value);
  } catch (error) {
    return [{ path, message: messageOf(error), ...(error instanceof Unclosed ? { at: error.at } : {}) }];
  }
  return (pieces ?? []).flatMap((piece) => {
    if (typeof piece === 'string') return [];
    const problem = syntaxProblem(piece.expr);
    if (problem === null) return [];
    return [{ path, message: problem.message, at: piece.at + (problem.at ?? piece.expr.length - piece.expr.trimStart().length) }];
  });
}

/**
 * The source text of every expression in `value` (without `{% %}`), with its
 * path and where in its string the expression (the text, trimmed, as it is
 * parsed) starts (`at`); strings that do not split (an unclosed `{%`) are
 * skipped, since {@link expressionIssues} reports them.
 *
 * @example
 * expressionsIn({ id: '{% $steps.extract.output.id %}' }); // [{ path: ['id'], text: ' $steps.extract.output.id ', at: 3 }]
 */
export function expressionsIn(value: unknown, path: MappingPath = []): Array<{ path: MappingPath; text: string; at: number }> {
  if (Array.isArray(value)) return value.flatMap((item, index) => expressionsIn(item, [...path, index]));
  if (isRecord(value)) return Object.entries(value).flatMap(([key, item]) => expressionsIn(item, [...path, key]));
  if (typeof value !== 'string') return [];
  let pieces: Piece[] | null;
  try {
    pieces = split(value);
  } catch {
    return [];
  }
  return (pieces ?? []).flatMap((piece) => (typeof piece === 'string' ? [] : [{ path, text: piece.expr, at: piece.at + piece.expr.length - piece.expr.trimStart().length }]));
}
