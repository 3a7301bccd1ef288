/**
 * The nodes of an expression's JSONata syntax tree, for the static checks of
 * `validate` (./step-refs.ts, ./expr-names.ts): every object of the tree but
 * arrays, each parent before its children.
 */
import { compileExpression } from '../expr/index.js';

/** The tree's nodes, parents first; null for an expression that does not parse (its syntax error is reported apart). */
export function expressionNodes(expression: string): object[] | null {
  let ast: unknown;
  try {
    ast = compileExpression(expression).evaluator.ast();
  } catch {
    return null;
  }
  const nodes: object[] = [];
  const stack: unknown[] = [ast];
  const seen = new Set<object>();
  // Not `node !== undefined` as the loop's test: the tree holds undefined members (a lambda's absent signature).
  while (stack.length > 0) {
    const node = stack.pop();
    if (typeof node !== 'object' || node === null || seen.has(node)) continue;
    seen.add(node);
    stack.push(...Object.values(node));
    if (!Array.isArray(node)) nodes.push(node);
  }
  return nodes;
}
