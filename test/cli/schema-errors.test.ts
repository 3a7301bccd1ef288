/**
 * A definition whose JSON Schema is invalid is refused by every command that loads it, with the file, line and
 * field, before any run starts or model call is made. Found by an outside tester: `validate` said ok, `run` printed an
 * Ajv stack trace with no file or line, and a bad `analyze.schema` was retried with three paid model calls.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, tempDir } from './helpers.js';

describe('an invalid JSON Schema in a definition', () => {
  it('is refused by validate and run at its field, with no stack trace and no model call', async () => {
    const dir = tempDir();
    const input = join(dir, 'bad-input-schema.yaml');
    writeFileSync(input, 'id: bad-input-schema\ninput: { type: strin }\nsteps:\n  done: { final: true }\n');
    const analyze = join(dir, 'bad-analyze-schema.yaml');
    writeFileSync(
      analyze,
      'id: bad-analyze-schema\nsteps:\n  classify:\n    analyze:\n      prompt: Classify the ticket.\n      schema: { properties: { level: { enum: low } } }\n    next: done\n  done: { final: true }\n',
    );
    const inputIssue = `${input}:2:16: input.type: not a valid JSON Schema: must be one of array, boolean, integer, null, number, object, string (got "strin")`;
    const analyzeIssue = `${analyze}:6:46: steps.classify.analyze.schema.properties.level.enum: not a valid JSON Schema: must be array`;

    const validated = await cli(['validate', input, analyze]);
    expect(validated.code).toBe(1);
    expect(`${validated.stdout}${validated.stderr}`).toContain(inputIssue);
    expect(`${validated.stdout}${validated.stderr}`).toContain(analyzeIssue);

    for (const [file, issue] of [[input, inputIssue], [analyze, analyzeIssue]] as const) {
      const ran = await cli(['run', file, '--input', '{}', '--store', 'memory', '--emulator']);
      expect(ran.code).toBe(1);
      expect(ran.stderr).toContain(issue);
      expect(ran.stderr).not.toMatch(/^\s+at /m);
      expect(`${ran.stdout}${ran.stderr}`).not.toMatch(/tokens|retries_exhausted/);
    }
  });
});
