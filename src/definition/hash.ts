/** A short, stable fingerprint of a definition, recorded with every run so a run knows what it ran. */
import { createHash } from 'node:crypto';
import { StepwiseError } from '../errors.js';
import { nonJsonValues } from './json-data.js';
import { dotted } from './locate.js';
import type { Workflow } from './schema.js';

/** JSON with object keys sorted at every level, so equal values give equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    typeof item === 'object' && item !== null && !Array.isArray(item)
      ? Object.fromEntries(Object.entries(item).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : item,
  );
}

/**
 * The first 12 hex digits of the SHA-256 of the canonical JSON of the workflow
 * (without `$schema` and `tools`, which say where things are, not what runs)
 * and the sorted tool names. A YAML definition and its TypeScript twin hash
 * the same. A workflow holding a value JSON cannot (NaN, a Set, a Date) has
 * no hash: its canonical JSON would be its JSON twin's (NaN written as null).
 *
 * @throws StepwiseError `definition_invalid` naming the first such value.
 */
export function definitionHash(workflow: Workflow, toolNames: Iterable<string>): string {
  const { $schema: _schema, tools: _modules, ...rest } = workflow;
  const [nonJson] = nonJsonValues(rest);
  if (nonJson) throw new StepwiseError('definition_invalid', `${dotted(nonJson.path)}: ${nonJson.message}`);
  const text = canonicalJson({ workflow: rest, tools: [...toolNames].sort() });
  return createHash('sha256').update(text).digest('hex').slice(0, 12);
}
