/**
 * An Ajv instance (JSON Schema 2020-12, all errors, not strict) made on first
 * use: loading and setting up Ajv is a noticeable part of a CLI start, and
 * most commands never validate JSON against a schema.
 */
import type { Ajv2020 } from 'ajv/dist/2020.js';

/** Returns a function that gives one Ajv instance, loaded and made when first called. */
export function lazyAjv(): () => Promise<Ajv2020> {
  let ajv: Promise<Ajv2020> | undefined;
  return () => (ajv ??= import('ajv/dist/2020.js').then(({ Ajv2020 }) => new Ajv2020({ allErrors: true, strict: false })));
}
