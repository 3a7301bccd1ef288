/**
 * The JSON Schema of a `map` body's `$input`, derived for `validate`'s worst
 * case: the item (under `as`, default `item`) has the item schema of the
 * array `map.items` reads (`{% $input.<field…> %}` or
 * `{% $steps.<id>.output.<field…> %}`), `index` is an integer, and each
 * `map.context` key has the schema of what its plain reference reads. A value
 * nothing describes (a computed expression, an array without `items`) is
 * marked unbounded with the reason, so the bound names the field.
 */
import type { Workflow } from '../definition/schema.js';
import { UNBOUNDED } from '../policy/value-bound.js';
import { referenceSchema, soleExpression, type BoundSources } from './context-bound.js';
import type { MapSpec } from './map-body.js';

const unbounded = (reason: string) => ({ [UNBOUNDED]: reason });

/** The schema of the value `value` (a map's items or a context entry) reads from the parent run. */
function sourceSchema(value: unknown, what: string, sources: BoundSources): unknown {
  const expression = soleExpression(value);
  // A value with no expression in it is a constant: it is its own bound.
  if (expression === undefined) return JSON.stringify(value ?? null).includes('{%') ? unbounded(`${what} is not one plain reference`) : { const: value ?? null };
  const found = referenceSchema(expression, sources);
  return 'reason' in found ? unbounded(`${what} reads ${expression}: ${found.reason}`) : found.schema;
}

/** The array schema `map.items` reads, if it has one. */
export function itemsSchema(spec: MapSpec, sources: BoundSources): Record<string, unknown> | undefined {
  const schema = sourceSchema(spec.map.items, 'map.items', sources);
  return typeof schema === 'object' && schema !== null && !(UNBOUNDED in schema) ? (schema as Record<string, unknown>) : undefined;
}

/** The schema of a body's `$input`, read from the parent `workflow` (and its tools' output schemas). */
export function bodyInputSchema(spec: MapSpec, sources: BoundSources): Workflow['input'] {
  const items = itemsSchema(spec, sources);
  const item = items === undefined ? sourceSchema(spec.map.items, 'map.items', sources) : (items['items'] ?? unbounded(`the array map.items reads declares no items schema`));
  const context = Object.fromEntries(Object.entries(spec.map.context ?? {}).map(([key, value]) => [key, sourceSchema(value, `map.context.${key}`, sources)]));
  return {
    type: 'object',
    additionalProperties: false,
    required: [spec.map.as ?? 'item', 'index', ...Object.keys(context)],
    properties: { ...context, [spec.map.as ?? 'item']: item, index: { type: 'integer' } },
  } as Workflow['input'];
}
