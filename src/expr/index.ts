/** Expressions of the definition format: JSONata inside `{% %}`, evaluated with limits, never `eval`. */
export { compileMapping, evaluateMapping, expressionIssues, expressionsIn } from './mapping.js';
export type { Mapping, MappingPath, ExpressionIssue } from './mapping.js';
export { evaluateCondition, unwrapExpression } from './condition.js';
export { compileExpression, evaluateExpression, syntaxIssue, defaultLimits } from './expression.js';
export type { Scope, ExpressionLimits, CompiledExpression } from './expression.js';
