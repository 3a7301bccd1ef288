/**
 * Fault mutations of tool inputs: an input that breaks its schema
 * (`invalid_input`) and a near-identical copy of an earlier one (`repeat_call`).
 */
import type { Random } from '../util/random.js';
import { conforms } from './conforms.js';
import { deref, isObject, strings, types, type JsonSchema } from './json-schema.js';
import { pick } from './plausible.js';

const wrongValues: readonly unknown[] = ['not-a-number', 12345, true, null, ['x'], { unexpected: 1 }];

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

/**
 * A copy of `input` that fails `schema`: a required property dropped, or a
 * property given a wrong type. Undefined when the schema accepts anything.
 * @example
 * invalidInput(schema, { vendorId: 'V-1', total: 5 }, random); // e.g. { total: 5 }
 */
export function invalidInput(schema: JsonSchema, input: Record<string, unknown>, random: Random): Record<string, unknown> | undefined {
  const root = deref(schema, schema);
  if (typeof root === 'boolean') return undefined;
  const props = isObject(root['properties']) ? root['properties'] : {};
  const attempts: Array<() => Record<string, unknown>> = [];
  const required = strings(root['required']).filter((k) => k in input);
  if (required.length) {
    const key = pick(required, random);
    attempts.push(() => {
      const { [key]: _dropped, ...rest } = input;
      return rest;
    });
  }
  const keys = Object.keys(input);
  const start = Math.floor(random() * Math.max(1, keys.length));
  for (let i = 0; i < keys.length; i++) {
    const key = keys[(start + i) % keys.length] as string;
    const propSchema = deref(schema, (props[key] ?? true) as JsonSchema);
    const allowed = typeof propSchema === 'object' ? types(propSchema) : [];
    for (const wrong of wrongValues) {
      const t = typeOf(wrong);
      if (allowed.includes(t) || (t === 'integer' && allowed.includes('number'))) continue;
      attempts.push(() => ({ ...input, [key]: wrong }));
      break;
    }
  }
  if (random() < 0.5) attempts.reverse();
  attempts.push(() => ({ ...input, unexpected_field: 'x' }));
  for (const attempt of attempts) {
    const candidate = attempt();
    if (!conforms(schema, schema, candidate)) return candidate;
  }
  return undefined;
}

function tweakString(text: string, random: Random): string {
  const r = random();
  if (r < 0.34) return `${text} `;
  if (r < 0.67) return text.length ? text.slice(0, 1).toUpperCase() === text.slice(0, 1) ? text.slice(0, 1).toLowerCase() + text.slice(1) : text.slice(0, 1).toUpperCase() + text.slice(1) : ' ';
  return text.replace(' ', '  ') === text ? ` ${text}` : text.replace(' ', '  ');
}

/**
 * A near-identical copy of a tool input: numeric noise on fractional numbers,
 * whitespace and case changes on strings.
 * @example
 * nearIdentical({ total: 12500.5, note: 'ok' }, random); // { total: 12500.51, note: 'Ok' }
 */
export function nearIdentical(value: unknown, random: Random): unknown {
  if (typeof value === 'string') return random() < 0.6 ? tweakString(value, random) : value;
  if (typeof value === 'number') {
    if (Number.isInteger(value)) return value;
    return Math.round(value * (1 + (random() - 0.5) * 1e-4) * 1e4) / 1e4;
  }
  if (Array.isArray(value)) return value.map((v) => nearIdentical(v, random));
  if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, nearIdentical(v, random)]));
  return value;
}
