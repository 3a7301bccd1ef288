/**
 * Definitions fuzzed (fast-check): random mutations of a valid YAML
 * definition — a field deleted, replaced by any JSON value, renamed, or an
 * unknown one added — either load, or are refused with a DefinitionError whose
 * every issue names its file, line and field. Nothing else is thrown, and
 * nothing hangs. The case count is printed.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { parse, stringify } from 'yaml';
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { DefinitionError } from '../../src/errors.js';
import { loadDefinition } from '../../src/definition/load.js';
import { HEAVY_BUDGET_MS } from '../budgets.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
// Cases are written beside the fixture, whose tool modules import the source by relative path; each is removed after.
const dir = fixtures;

const valid = parse(readFileSync(join(fixtures, 'valid.yaml'), 'utf8')) as Record<string, unknown>;
type Path = Array<string | number>;

/** Every path of a value's members, parents before children. */
function pathsOf(value: unknown, at: Path = []): Path[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => [[...at, i], ...pathsOf(v, [...at, i])]);
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => [[...at, k], ...pathsOf(v, [...at, k])]);
  return [];
}
const paths = pathsOf(valid);

type Mutation =
  | { kind: 'delete'; path: Path }
  | { kind: 'replace'; path: Path; value: unknown }
  | { kind: 'rename'; path: Path; to: string }
  | { kind: 'add'; path: Path; key: string; value: unknown };

function apply(base: unknown, m: Mutation): unknown {
  const copy = structuredClone(base) as Record<string | number, unknown>;
  const parent = m.path.slice(0, -1).reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string | number, unknown>)[k] : undefined), copy) as Record<string | number, unknown> | undefined;
  const key = m.path[m.path.length - 1]!;
  if (!parent || typeof parent !== 'object') return copy; // an earlier mutation removed the path
  if (m.kind === 'delete') {
    if (Array.isArray(parent)) parent.splice(key as number, 1);
    else delete parent[key];
  } else if (m.kind === 'replace') parent[key] = m.value;
  else if (m.kind === 'rename') {
    if (!Array.isArray(parent)) {
      parent[m.to] = parent[key];
      delete parent[key];
    }
  } else {
    const target = parent[key];
    if (target && typeof target === 'object' && !Array.isArray(target)) (target as Record<string, unknown>)[m.key] = m.value;
  }
  return copy;
}

const json = fc.jsonValue({ maxDepth: 2 });
const key = fc.oneof(fc.constantFrom('next', 'onError', 'tool', 'claude', 'wait', 'final', 'with', 'retry', 'budget', 'steps', 'x'), fc.string({ maxLength: 6 }));
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('delete' as const), path: fc.constantFrom(...paths) }),
  fc.record({ kind: fc.constant('replace' as const), path: fc.constantFrom(...paths), value: json }),
  fc.record({ kind: fc.constant('rename' as const), path: fc.constantFrom(...paths), to: key }),
  fc.record({ kind: fc.constant('add' as const), path: fc.constantFrom(...paths), key, value: json }),
);

let cases = 0;
let loaded = 0;
afterAll(() => {
  process.stdout.write(`definition fuzz cases: ${cases} (${loaded} loaded, ${cases - loaded} refused)\n`);
});

describe('fuzzed definitions', () => {
  it('load, or are refused naming file, line and field', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 3 }), async (mutations) => {
        cases++;
        const definition = mutations.reduce<unknown>(apply, valid);
        const file = join(dir, `.fuzz-${process.pid}-${cases}.yaml`);
        writeFileSync(file, stringify(definition));
        try {
          await loadDefinition(file);
          loaded++;
        } catch (error) {
          expect(error, String(error)).toBeInstanceOf(DefinitionError);
          for (const issue of (error as DefinitionError).issues) {
            expect(issue.file, issue.message).toBe(file);
            expect(issue.line).toBeGreaterThanOrEqual(1);
            expect(issue.path, `${issue.message} (mutations ${JSON.stringify(mutations)})`).not.toBe('');
          }
        } finally {
          rmSync(file, { force: true });
        }
      }),
      { numRuns: 200, seed: 20261201 },
    );
    expect(cases).toBeGreaterThanOrEqual(200);
    expect(loaded).toBeGreaterThan(0);
  }, HEAVY_BUDGET_MS);
});
