/**
 * One JSONata expression: compiled once per process (LRU cache), evaluated
 * against a run's {@link Scope} under a work budget: evaluation steps, depth
 * and result size. No limit reads a clock, so how busy the machine is never
 * decides whether a correct expression succeeds, and every limit still stops
 * a runaway one:
 *
 * - **steps** ({@link limitSteps}): every node evaluation counts, so an
 *   infinite loop, tail calls included, fails after `maxSteps` (about a
 *   second at the default on an idle machine), while a lookup takes a handful;
 * - **depth**: jsonata's `stack` option, checked on every node's evaluation,
 *   stops non-tail recursion before it exhausts the JavaScript stack;
 * - **regular expressions** run on {@link LinearRegExp} (RE2), in time linear
 *   in their input, so no pattern can backtrack for minutes inside one step;
 * - **result size**: the result is turned into plain JSON, which drops
 *   functions and measures the size.
 *
 * There is no wall-clock limit: a time limit cannot tell a loop from a loaded
 * CPU (it failed trivial lookups under load), and the step budget already
 * bounds the time as a multiple of the machine's speed. `timeoutMs` is still
 * accepted and ignored.
 *
 * Safety rests on jsonata 2.2's own rules, checked by `test/expr/safety.test.ts`:
 * property lookup reads own properties only (`hasOwnProperty`), so
 * `$input.constructor` or `$input.__proto__` find nothing and the scope needs
 * no defensive copy; `$eval` runs in the caller's environment, so the limits
 * and the regular expression engine hold inside it too.
 */
import jsonata from 'jsonata';
import { DEFAULT_MAX_OUTPUT_BYTES } from '../run/storable.js';
import { StepwiseError } from '../errors.js';
import { StepBudgetExceeded, limitSteps } from './budget.js';
import { replaceQuadraticBuiltins } from './functions.js';
import { LinearRegExp, regexIssue } from './regex.js';
import { lookupOf, readLookup, UNANSWERED, type Lookup } from './lookup.js';
import { BoundedMap } from '../util/bounded-map.js';

export { UNANSWERED } from './lookup.js';

/** What an expression can see: bound as `$input`, `$steps`, `$event`, `$run` (and `$proposed` in `review.when`), and as the context `$`. */
export interface Scope {
  readonly input: unknown;
  readonly steps: Readonly<Record<string, unknown>>;
  readonly event?: unknown;
  readonly run?: unknown;
  /** In a `claude` step's `review.when`: the tool input the model proposed. */
  readonly proposed?: unknown;
}

/** Limits on one evaluation; every field optional, see {@link defaultLimits}. */
export interface ExpressionLimits {
  /** Evaluation steps (JSONata node evaluations) one evaluation may take. */
  readonly maxSteps?: number;
  /** Nesting depth of JSONata's evaluator (grows with non-tail recursion). */
  readonly maxDepth?: number;
  /** Size of the result serialised as JSON, in UTF-8 bytes. */
  readonly maxResultBytes?: number;
  /**
   * Ignored; accepted so that existing callers still compile. Evaluation is
   * bounded by `maxSteps`, which does not depend on the machine's load.
   * @deprecated Use `maxSteps`.
   */
  readonly timeoutMs?: number;
}

/** The limits an evaluation runs under, every one set. */
export type ResolvedLimits = Required<Omit<ExpressionLimits, 'timeoutMs'>>;

/**
 * The limits used when none are given: 2,000,000 steps, depth 1000, and a result
 * as large as a step output may be (4 MiB), so a mapping can pass any stored output on.
 */
export const defaultLimits: ResolvedLimits = {
  maxSteps: 2_000_000,
  maxDepth: 1000,
  maxResultBytes: DEFAULT_MAX_OUTPUT_BYTES,
};

/** A parsed expression with its source text and resolved limits. */
export interface CompiledExpression {
  /** The expression as written, without `{% %}` and surrounding whitespace. */
  readonly text: string;
  readonly limits: ResolvedLimits;
  readonly evaluator: jsonata.Expression;
  /** Set when the expression is a plain lookup (`$steps.a.output.b`), read without the evaluator where that gives JSONata's answer. */
  readonly lookup?: Lookup | null;
}

const cacheSize = 1000;
/** Parsed expressions are immutable, so one cache per process is safe to share. */
const cache = new BoundedMap<string, { readonly evaluator: jsonata.Expression; readonly lookup: Lookup | null }>(cacheSize);

/** A JSONata error as thrown by jsonata (a plain object, not always an Error). */
interface JsonataFailure {
  readonly code?: string;
  readonly position?: number;
  readonly token?: string;
  readonly message?: string;
  /** The inner error of `$eval`. */
  readonly error?: unknown;
}

function asFailure(error: unknown): JsonataFailure {
  return typeof error === 'object' && error !== null ? (error as JsonataFailure) : { message: String(error) };
}

/**
 * Parses `text` (no `{% %}`), reusing a cached parse of the same text and limits.
 * Throws {@link StepwiseError} `expression_failed` naming the expression and
 * the position of the syntax error.
 *
 * @example
 * const total = compileExpression('$steps.extract.output.total');
 */
export function compileExpression(source: string, limits: ExpressionLimits = {}): CompiledExpression {
  const text = source.trim();
  const { maxSteps, maxDepth, maxResultBytes } = { ...defaultLimits, ...definedOnly(limits) };
  const resolved: ResolvedLimits = { maxSteps, maxDepth, maxResultBytes };
  const key = `${maxSteps}:${maxDepth}:${text}`;
  let parsed = cache.touch(key);
  if (!parsed) {
    const evaluator = parse(text, { stack: maxDepth, RegexEngine: LinearRegExp as unknown as RegExpConstructor });
    limitSteps(evaluator, maxSteps);
    replaceQuadraticBuiltins(evaluator);
    parsed = { evaluator, lookup: lookupOf(evaluator.ast()) };
    cache.set(key, parsed);
  }
  return { text, limits: resolved, ...parsed };
}

/** The syntax error of `text` (or its unusable regular expression) as a message, or `null` when it parses. Never evaluates. */
export function syntaxIssue(text: string): string | null {
  return syntaxProblem(text)?.message ?? null;
}

/**
 * {@link syntaxIssue} with where in `text` the parser stopped (`at`, an index into `text`), when it says; what
 * `validate` locates the error in the file with.
 */
export function syntaxProblem(text: string): { readonly message: string; readonly at?: number } | null {
  try {
    parse(text.trim(), {});
    return null;
  } catch (error) {
    const message = error instanceof StepwiseError ? error.message : String(error);
    const position = error instanceof StepwiseError ? asFailure(error.cause).position : undefined;
    // jsonata's position is the index just past the token it stopped at, in the trimmed text.
    if (position === undefined) return { message };
    return { message, at: text.length - text.trimStart().length + Math.max(0, position - 1) };
  }
}

function parse(text: string, options: jsonata.JsonataOptions): jsonata.Expression {
  if (text.trim() === '') throw new StepwiseError('expression_failed', 'Empty expression `{% %}`: write a JSONata expression between {% and %}.');
  let evaluator: jsonata.Expression;
  try {
    evaluator = jsonata(text, options);
  } catch (error) {
    const failure = asFailure(error);
    const at = failure.position === undefined ? '' : ` at position ${failure.position}`;
    throw new StepwiseError(
      'expression_failed',
      `Syntax error in expression \`${text}\`${at}: ${failure.message ?? 'invalid JSONata'}`,
      { cause: error },
    );
  }
  const regex = regexIssue(evaluator.ast());
  if (regex !== null) throw new StepwiseError('expression_failed', `Expression \`${text}\`: ${regex}`);
  return evaluator;
}

/**
 * Evaluates a compiled expression against `scope` and returns its value as
 * plain JSON (`undefined` when it selects nothing). Any failure, a limit
 * included, is a {@link StepwiseError} `expression_failed` naming the expression.
 *
 * @example
 * await evaluateExpression(compileExpression('$input.total > 10'), { input: { total: 12 }, steps: {} }); // true
 */
export async function evaluateExpression(expression: CompiledExpression, scope: Scope): Promise<unknown> {
  const { text, limits } = expression;
  const context = bindingsOf(scope);
  if (expression.lookup) {
    const found = readLookup(expression.lookup, context);
    if (found !== UNANSWERED) return toJson(found, text, limits.maxResultBytes);
  }
  let value: unknown;
  try {
    value = await expression.evaluator.evaluate(context, context);
  } catch (error) {
    throw new StepwiseError('expression_failed', `Expression \`${text}\` failed: ${describe(error, limits)}`, {
      cause: error,
    });
  }
  return toJson(value, text, limits.maxResultBytes);
}

/** The scope as expressions see it: the variables `$input`, `$steps`, `$event`, `$run` (and `$proposed`), also the context `$`. */
function bindingsOf(scope: Scope): Record<string, unknown> {
  const bindings: Record<string, unknown> = { input: scope.input, steps: scope.steps, event: scope.event, run: scope.run };
  if (scope.proposed !== undefined) bindings['proposed'] = scope.proposed;
  return bindings;
}

/**
 * The value of a plain lookup read straight from `scope`, as
 * {@link evaluateExpression} would give it, without waiting for anything; or
 * {@link UNANSWERED} when the expression needs JSONata's evaluator.
 */
export function lookupNow(expression: CompiledExpression, scope: Scope): unknown {
  if (!expression.lookup) return UNANSWERED;
  const found = readLookup(expression.lookup, bindingsOf(scope));
  return found === UNANSWERED ? UNANSWERED : toJson(found, expression.text, expression.limits.maxResultBytes);
}

function describe(error: unknown, limits: ResolvedLimits): string {
  let failure = asFailure(error);
  while (failure.code === 'D3121' && failure.error !== undefined) failure = asFailure(failure.error);
  if (failure instanceof StepBudgetExceeded) {
    return `it took more than the limit of ${limits.maxSteps} evaluation steps; check for an infinite loop.`;
  }
  if (failure.code === 'D1011' || failure.message?.includes('call stack'))
    return `it recursed deeper than the limit of ${limits.maxDepth}; check for non-terminating recursion.`;
  const at = failure.position === undefined ? '' : ` (at position ${failure.position})`;
  return `${failure.message ?? 'unknown error'}${at}`;
}

/** JSON copy of a JSONata result: drops functions and sequence markers, enforces the size limit. */
function toJson(value: unknown, text: string, maxBytes: number): unknown {
  switch (typeof value) {
    case 'undefined':
      return undefined;
    case 'boolean':
      return value;
    case 'number':
      // As JSON reads it back: -0 as 0. NaN and the infinities JSON has no text for (it would write null).
      if (!Number.isFinite(value)) throw nonFinite(text, value);
      return value === 0 ? 0 : value;
    case 'string':
      // Escaped, a UTF-16 unit is at most 6 characters of JSON: a short string is within the limit as it is.
      if ((value.length * 6 + 2) * 3 <= maxBytes) return value;
      break;
    case 'object':
      if (value === null) return null;
  }
  const json = JSON.stringify(value, (_key, item: unknown) => {
    if (typeof item === 'number' && !Number.isFinite(item)) throw nonFinite(text, item);
    return isFunctionLike(item) ? undefined : item;
  });
  if (json === undefined) return undefined;
  const bytes = json.length > maxBytes / 3 ? Buffer.byteLength(json) : json.length;
  if (bytes > maxBytes) {
    throw new StepwiseError(
      'expression_failed',
      `Expression \`${text}\` produced ${bytes} bytes of JSON, more than the limit of ${maxBytes}; select less data.`,
    );
  }
  return JSON.parse(json) as unknown;
}

/**
 * The error of a result holding NaN or an infinity (`1/0`, the average of an empty array): JSON would write it as
 * `null`, handing a tool or the run's output a null where a number was meant, so the step fails instead.
 */
function nonFinite(text: string, value: number): StepwiseError {
  return new StepwiseError(
    'expression_failed',
    `Expression \`${text}\` produced ${value}, which is not a JSON number (a division by zero, or an average of nothing?); guard the expression or check its data.`,
  );
}

function isFunctionLike(value: unknown): boolean {
  if (typeof value === 'function') return true;
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return record['_jsonata_lambda'] === true || record['_jsonata_function'] === true;
}

function definedOnly(limits: ExpressionLimits): ExpressionLimits {
  return Object.fromEntries(Object.entries(limits).filter(([, v]) => v !== undefined)) as ExpressionLimits;
}
