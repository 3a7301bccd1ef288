/**
 * The fast path of the commonest expression, a plain lookup such as
 * `$steps.extract.output.vendorId` or `$input`: read straight from the scope
 * instead of through JSONata's evaluator. It answers only where JSONata's own
 * answer is certain to be the same: every value walked through is a plain
 * object and each name is read as an own property (JSONata's rule). Anything
 * else (an array on the way, which JSONata maps over; a filter, a predicate)
 * is left to JSONata.
 */
import type jsonata from 'jsonata';

/** A lookup: a scope variable and the names read from it one after the other. */
export interface Lookup {
  readonly variable: string;
  readonly names: readonly string[];
}

/** A node of jsonata's AST as data (its `type` union lacks `path`, which the parser emits). */
type Node = Readonly<Record<string, unknown>>;

/** Keys a node of a plain name or variable may carry and still be a plain lookup. */
const PLAIN_KEYS = new Set(['type', 'value', 'position']);

const plain = (node: Node, type: string): boolean =>
  node.type === type && typeof node.value === 'string' && Object.keys(node).every((key) => PLAIN_KEYS.has(key));

/** The lookup `ast` is, or null when it is anything more. */
export function lookupOf(ast: jsonata.ExprNode): Lookup | null {
  const node: Node = { ...ast };
  if (plain(node, 'variable')) return { variable: node.value as string, names: [] };
  if (node.type !== 'path' || !Object.keys(node).every((key) => key === 'type' || key === 'steps' || key === 'position')) return null;
  const steps = (node.steps ?? []) as Node[];
  const [first, ...rest] = steps;
  if (!first || !plain(first, 'variable') || rest.length === 0 || !rest.every((step) => plain(step, 'name'))) return null;
  return { variable: first.value as string, names: rest.map((step) => step.value as string) };
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Marks a lookup the fast path cannot answer. */
export const UNANSWERED: unique symbol = Symbol('unanswered');

/** The value of `lookup` in `bindings`, or {@link UNANSWERED} where only JSONata can tell. */
export function readLookup(lookup: Lookup, bindings: Readonly<Record<string, unknown>>): unknown {
  if (!Object.hasOwn(bindings, lookup.variable)) return UNANSWERED;
  let value = bindings[lookup.variable];
  for (const name of lookup.names) {
    if (!isPlainObject(value)) return UNANSWERED;
    if (!Object.hasOwn(value, name)) return undefined;
    value = value[name];
  }
  return value;
}
