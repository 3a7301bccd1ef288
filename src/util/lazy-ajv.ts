/**
 * An Ajv instance (JSON Schema 2020-12, all errors, not strict) made on first
 * use: loading and setting up Ajv is a noticeable part of a CLI start, and
 * most commands never validate JSON against a schema. Its `pattern` and
 * `patternProperties` are matched by RE2 (`schemaRegExp`), in linear time:
 * the JSON it checks is a model's reply or a caller's input, and a JavaScript
 * `RegExp` such as `^([a-z0-9]+)+$` would let 30 characters of it block the
 * process for minutes.
 */
import type { Ajv2020 } from 'ajv/dist/2020.js';

/** Returns a function that gives one Ajv instance, loaded and made when first called. */
export function lazyAjv(): () => Promise<Ajv2020> {
  let ajv: Promise<Ajv2020> | undefined;
  return () =>
    (ajv ??= Promise.all([import('ajv/dist/2020.js'), import('../expr/regex.js')]).then(
      ([{ Ajv2020 }, { schemaRegExp }]) => new Ajv2020({ allErrors: true, strict: false, code: { regExp: schemaRegExp } }),
    ));
}
