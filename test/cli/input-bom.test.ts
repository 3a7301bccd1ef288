/**
 * A JSON file given as `--input @file` may start with a UTF-8 byte order mark, as a definition file may (an
 * outside tester's editor wrote one; the run was refused with `Unexpected token '﻿'`).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SPAWN_BUDGET_MS } from '../budgets.js';
import { cli, lastJson, tempDir, tempStore } from './helpers.js';

describe('--input @file with a byte order mark', { timeout: SPAWN_BUDGET_MS }, () => {
  it('reads the JSON after the mark', async () => {
    const dir = tempDir();
    const definition = join(dir, 'echo.yaml');
    writeFileSync(definition, ['id: echo-input', 'steps:', '  done: { final: true, output: "{% $input.x %}" }', ''].join('\n'));
    const input = join(dir, 'input.json');
    writeFileSync(input, '\uFEFF{"x": 7}');
    const ran = await cli(['run', definition, '--input', `@${input}`, ...tempStore(), '--emulator', '--json']);
    expect(ran.stderr).not.toContain('not valid JSON');
    expect(ran.code).toBe(0);
    expect(lastJson<{ output: unknown }>(ran.stdout).output).toBe(7);
  });
});
