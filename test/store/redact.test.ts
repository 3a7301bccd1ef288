/**
 * No store error echoes a password: a malformed PostgreSQL URL, an unknown
 * store spec and a store that cannot be opened are reported with the
 * credentials in the URL replaced by `***`, in the message and in the error's
 * cause, through `openStore` and the real CLI.
 */
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { StepwiseError } from '../../src/errors.js';
import { openStore } from '../../src/store/open.js';
import { redactSecrets } from '../../src/util/redact.js';
import { cli } from '../cli/helpers.js';

const SECRET = 'hunter2-Sup3r';

async function failureOf(spec: string): Promise<Error> {
  try {
    const store = await openStore(spec);
    await store.close();
  } catch (error) {
    return error as Error;
  }
  throw new Error(`openStore("${spec}") did not fail`);
}

describe('store errors never show a password', () => {
  it('a malformed PostgreSQL URL is named with its password redacted', async () => {
    const error = await failureOf(`postgres://stepwise:${SECRET}@db.example:notaport/app`);
    expect(error).toBeInstanceOf(StepwiseError);
    expect(error.message).toContain('postgres://stepwise:***@db.example:notaport/app');
    expect(inspect(error, { depth: 5 })).not.toContain(SECRET); // nor in its cause
  });

  it('a password with URL delimiters in it, and a password query parameter, are redacted too', async () => {
    for (const spec of [`postgresql://app:${SECRET}/x@y@db.example:5432:9/app`, `postgres://app@db.example:bad/app?password=${SECRET}&sslmode=require`]) {
      const error = await failureOf(spec);
      expect(inspect(error, { depth: 5 }), spec).not.toContain(SECRET);
      expect(error.message).toContain('***');
    }
  });

  it('a password with a space, a quote or a backtick, or a URL without its scheme after postgres:, is redacted too', async () => {
    const specs = [
      `postgres://app:${SECRET} x@db.invalid/app`,
      `postgres://app:${SECRET}"x@db.invalid/app`,
      `postgres://app:${SECRET}'x@db.invalid/app`,
      `postgres://app:${SECRET}\`x@db.invalid/app`,
      `postgres:app:${SECRET}@db.invalid/app`,
      `postgres:app:${SECRET}@`,
    ];
    for (const spec of specs) {
      const error = await failureOf(spec);
      expect(error.message, spec).toContain('***');
      expect(inspect(error, { depth: 5 }), spec).not.toContain(SECRET);
    }
  });

  it('an unknown store spec is echoed without its password', async () => {
    const error = await failureOf(`mysql://root:${SECRET}@db.example/app`);
    expect(error.message).toContain('mysql://root:***@db.example/app');
    expect(error.message).not.toContain(SECRET);
  });

  it('a store that cannot be reached is reported without the URL password', async () => {
    const error = await failureOf(`postgres://postgres:${SECRET}@127.0.0.1:1/test?connect_timeout=2`);
    expect(error.message).toMatch(/Could not open the postgres store/);
    expect(inspect(error, { depth: 5 })).not.toContain(SECRET);
  });

  it('the CLI never prints the password of a bad --store', async () => {
    const result = await cli(['list', '--store', `postgres://stepwise:${SECRET}@db.example:notaport/app`]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('stepwise:***@db.example');
    expect(result.stderr + result.stdout).not.toContain(SECRET);
  });

  it('redactSecrets leaves text without credentials alone', () => {
    expect(redactSecrets('postgres://postgres@127.0.0.1:5432/test?schema=s')).toBe('postgres://postgres@127.0.0.1:5432/test?schema=s');
    expect(redactSecrets('see https://example.com/a@b')).toBe('see https://example.com/a@b');
    expect(redactSecrets('"postgres://u:p@h/db"')).toBe('"postgres://u:***@h/db"');
  });
});
