/**
 * Static check of the names an expression reads: every `$name` must be one the
 * engine binds (`$input`, `$steps`, `$event`, `$run`, `$proposed`), a JSONata
 * function, or a name the expression binds itself (`$x := …`, a lambda's
 * parameter, a path's `@$x` or `#$i`). A misspelled variable would select
 * nothing at run time (a tool silently given no value), and an unknown
 * function fail the step; `validate` reports both with a suggestion instead.
 */
import { expressionNodes } from './expression-nodes.js';
import type { PathSegment } from './locate.js';
import type { Finding } from './reach.js';
import { closestMatch } from './suggest.js';

/** What the engine binds for every expression ($proposed only in `review.when`, where it is checked at run time). */
const BOUND = ['input', 'steps', 'event', 'run', 'proposed'];

/** JSONata 2's functions (its static frame, with `$now` and `$millis`, which it binds per evaluation). */
const FUNCTIONS = [
  'sum', 'count', 'max', 'min', 'average', 'string', 'substring', 'substringBefore', 'substringAfter', 'lowercase', 'uppercase',
  'length', 'trim', 'pad', 'match', 'contains', 'replace', 'split', 'join', 'formatNumber', 'formatBase', 'formatInteger',
  'parseInteger', 'number', 'floor', 'ceil', 'round', 'abs', 'sqrt', 'power', 'random', 'boolean', 'not', 'map', 'zip',
  'filter', 'single', 'reduce', 'sift', 'keys', 'lookup', 'append', 'exists', 'spread', 'merge', 'reverse', 'each', 'error',
  'assert', 'type', 'sort', 'shuffle', 'distinct', 'base64encode', 'base64decode', 'encodeUrlComponent', 'encodeUrl',
  'decodeUrlComponent', 'decodeUrl', 'eval', 'toMillis', 'fromMillis', 'clone', 'now', 'millis',
];
const KNOWN = new Set([...BOUND, ...FUNCTIONS]);

interface AstNode {
  readonly type?: string;
  readonly value?: unknown;
  readonly procedure?: AstNode;
  readonly lhs?: AstNode;
  readonly arguments?: readonly AstNode[];
  readonly focus?: unknown;
  readonly index?: unknown;
  /** Where jsonata's tokenizer ended the node's token: the index just past it. */
  readonly position?: number;
}

/** Where a `$name` token starts in its expression, from the node jsonata made of it. */
function startOf(node: AstNode, name: string): number {
  return Math.max(0, (node.position ?? 0) - name.length - 1);
}

/** A `$name` of an expression and where its first use starts in it (`at`). */
export interface NameUse {
  readonly name: string;
  readonly at: number;
}

/** The `$names` an expression reads that nothing binds, functions called apart; none for one that does not parse. */
export function unboundNames(expression: string): { readonly variables: NameUse[]; readonly functions: NameUse[] } {
  const nodes = expressionNodes(expression);
  if (nodes === null) return { variables: [], functions: [] };
  const bound = new Set<string>();
  const read = new Map<string, number>();
  const called = new Map<string, number>();
  const use = (names: Map<string, number>, node: AstNode, name: string) => names.set(name, Math.min(names.get(name) ?? Infinity, startOf(node, name)));
  const procedures = new Set<object>();
  // Parents come first: a call is seen before the variable that names its function.
  for (const node of nodes) {
    const n = node as AstNode;
    if (typeof n.focus === 'string') bound.add(n.focus);
    if (typeof n.index === 'string') bound.add(n.index);
    if (n.type === 'bind' && n.lhs?.type === 'variable' && typeof n.lhs.value === 'string') bound.add(n.lhs.value);
    if (n.type === 'lambda') for (const a of n.arguments ?? []) if (typeof a.value === 'string') bound.add(a.value);
    if ((n.type === 'function' || n.type === 'partial') && n.procedure?.type === 'variable' && typeof n.procedure.value === 'string') {
      procedures.add(n.procedure);
      use(called, n.procedure, n.procedure.value);
    }
    // `$` is the context, `$$` the root: no name.
    if (n.type === 'variable' && typeof n.value === 'string' && n.value !== '' && n.value !== '$' && !procedures.has(n)) use(read, n, n.value);
  }
  const unbound = ([name]: [string, number]) => !KNOWN.has(name) && !bound.has(name);
  const uses = (names: Map<string, number>) => [...names].filter(unbound).map(([name, at]) => ({ name, at }));
  return { variables: uses(read).filter(({ name }) => !called.has(name)), functions: uses(called) };
}

/**
 * Findings for every expression in `fields` that reads a `$name` nothing binds or calls a function that does not exist.
 *
 * @example
 * unboundNameFindings([{ path: ['steps', 'a', 'with', 'x'], text: '$inptu.x' }]);
 * // [{ path: [...], message: '$inptu is not a variable; did you mean "$input"?' }]
 */
export function unboundNameFindings(
  expressions: ReadonlyArray<{ readonly path: readonly PathSegment[]; readonly text: string; readonly at?: number }>,
): Finding[] {
  return expressions.flatMap(({ path, text, at = 0 }) => {
    const { variables, functions } = unboundNames(text);
    return [
      ...variables.map(({ name, at: inside }) => ({ path, at: at + inside, message: `$${name} is not a variable${meant(name, BOUND, '') || `; expressions read ${BOUND.map((b) => `$${b}`).join(', ')}`}` })),
      ...functions.map(({ name, at: inside }) => ({ path, at: at + inside, message: `$${name}() is not a function${meant(name, FUNCTIONS, '()') || ' of JSONata'}` })),
    ];
  });
}

/** `; did you mean "$input"?` (or `"$uppercase()"`): the name as an expression writes it, when one is close; else `''`. */
function meant(name: string, candidates: Iterable<string>, call: '' | '()'): string {
  const match = closestMatch(name, candidates);
  return match === undefined ? '' : `; did you mean "$${match}${call}"?`;
}
