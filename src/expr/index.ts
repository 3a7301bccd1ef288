/** Expressions of the definition format: JSONata inside `{% %}`, evaluated under a work budget, never `eval`. */
export { compileMapping, definitionMapping, evaluateMapping, expressionIssues, expressionsIn } from './mapping.js';
export type { Mapping, MappingPath, ExpressionIssue } from './mapping.js';
export { evaluateCondition, unwrapExpression } from './condition.js';
export { compileExpression, evaluateExpression, syntaxIssue, defaultLimits } from './expression.js';
export type { Scope, ExpressionLimits, ResolvedLimits, CompiledExpression } from './expression.js';
