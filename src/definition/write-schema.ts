/**
 * Writes `schema/workflow.schema.json` from the zod schema. Run after changing
 * `schema.ts`: `npx tsx src/definition/write-schema.ts`. A test fails when the
 * committed file and the schema drift apart.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { workflowJsonSchemaText } from './json-schema.js';

const schemaFile = resolve(dirname(fileURLToPath(import.meta.url)), '../../schema/workflow.schema.json');

mkdirSync(dirname(schemaFile), { recursive: true });
writeFileSync(schemaFile, workflowJsonSchemaText());
console.log(`wrote ${schemaFile}`);
