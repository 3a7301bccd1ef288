/**
 * Conditions: a `choice` step's `when`. The expression must produce a
 * boolean; JSONata's truthiness for other values is not used, because a
 * typo that selects nothing would then silently mean `false`.
 */
import { StepwiseError } from '../errors.js';
import { compileExpression, evaluateExpression, type ExpressionLimits, type Scope } from './expression.js';

const wrapped = /^\s*\{%([\s\S]*)%\}\s*$/;

/** The expression inside `{% … %}`, or the text itself when it is not wrapped. */
export function unwrapExpression(text: string): string {
  return wrapped.exec(text)?.[1] ?? text;
}

/**
 * Evaluates `expr` (with or without `{% %}`) and returns its boolean value.
 * Any other result, `undefined` included, is a {@link StepwiseError}
 * `expression_failed` naming the expression and what it produced.
 *
 * @example
 * await evaluateCondition('{% $steps.extract.output.total > 10000 %}', scope); // true or false
 */
export async function evaluateCondition(expr: string, scope: Scope, limits: ExpressionLimits = {}): Promise<boolean> {
  const text = unwrapExpression(expr);
  const value = await evaluateExpression(compileExpression(text, limits), scope);
  if (typeof value === 'boolean') return value;
  const got = value === undefined ? 'nothing (no data matched)' : `${JSON.stringify(value).slice(0, 80)}`;
  throw new StepwiseError(
    'expression_failed',
    `Condition \`${text.trim()}\` must produce true or false but produced ${got}; compare explicitly, e.g. \`$exists(...)\` or \`... = true\`.`,
  );
}
