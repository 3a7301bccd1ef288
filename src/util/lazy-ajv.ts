/**
 * An Ajv instance (JSON Schema 2020-12, all errors, not strict) made on first
 * use: loading and setting up Ajv is a noticeable part of a CLI start, and
 * most commands never validate JSON against a schema. Its `pattern` and
 * `patternProperties` are matched by RE2 (`schemaRegExp`), in linear time:
 * the JSON it checks is a model's reply or a caller's input, and a JavaScript
 * `RegExp` such as `^([a-z0-9]+)+$` would let 30 characters of it block the
 * process for minutes.
 */
import { createRequire } from 'node:module';
import type { Ajv2020, Options } from 'ajv/dist/2020.js';
import { schemaRegExp } from '../expr/regex.js';

/** How the engine's Ajv reads schemas: what it compiles is what a definition may hold; patterns go to RE2. */
export const AJV_OPTIONS: Options = { allErrors: true, strict: false, code: { regExp: schemaRegExp } };

/** Returns a function that gives one Ajv instance, loaded and made when first called. */
export function lazyAjv(): () => Promise<Ajv2020> {
  let ajv: Promise<Ajv2020> | undefined;
  return () => (ajv ??= import('ajv/dist/2020.js').then(({ Ajv2020 }) => new Ajv2020(AJV_OPTIONS)));
}

/**
 * Returns a function that gives one Ajv instance with the engine's options, loaded synchronously when first called
 * (for checks that cannot wait, such as a definition loaded from an object), its warnings (an unknown `format`) not
 * logged: they are the run's to give.
 */
export function syncAjv(): () => Ajv2020 {
  let ajv: Ajv2020 | undefined;
  return () => {
    if (ajv) return ajv;
    const { Ajv2020: Made } = createRequire(import.meta.url)('ajv/dist/2020.js') as typeof import('ajv/dist/2020.js');
    ajv = new Made({ ...AJV_OPTIONS, logger: false });
    return ajv;
  };
}
