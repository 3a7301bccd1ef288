import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { workflowJsonSchema, workflowJsonSchemaText } from '../../src/definition/json-schema.js';

const committed = new URL('../../schema/workflow.schema.json', import.meta.url);

describe('workflow JSON Schema', () => {
  it('is committed as generated (regenerate with `npx tsx src/definition/write-schema.ts`)', () => {
    expect(readFileSync(committed, 'utf8')).toBe(workflowJsonSchemaText());
  });

  it('accepts a valid definition and rejects an unknown key', () => {
    const validate = new Ajv2020({ strict: false }).compile(workflowJsonSchema());
    const valid = parse(readFileSync(new URL('./fixtures/valid.yaml', import.meta.url), 'utf8'));
    expect(validate(valid)).toBe(true);
    expect(validate({ ...valid, nxt: 1 })).toBe(false);
  });
});
