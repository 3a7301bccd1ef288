/**
 * `stepwise-engine/testing` exports the store conformance suite from the built
 * package, and loading it pulls in no test runner: a process whose module
 * resolution refuses `vitest` still imports it.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../..');

// Refuses every vitest module, then imports the package's own `./testing` export (the built dist/testing.js).
const script = `
import { register } from 'node:module';
register('data:text/javascript,' + encodeURIComponent(
  "export async function resolve(specifier, context, next) {" +
  "  if (/^(vitest|@vitest\\\\/)/.test(specifier)) throw new Error('vitest was imported: ' + specifier);" +
  "  return next(specifier, context);" +
  "}"));
const testing = await import('stepwise-engine/testing');
let refused = 'no';
try { await import('vitest'); } catch (error) { refused = String(error.message); }
console.log(JSON.stringify({ storeSpec: typeof testing.storeSpec, startEmulator: typeof testing.startEmulator, refused }));
`;

function runNode(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('stepwise-engine/testing', () => {
  it('exports storeSpec and loads without vitest', async () => {
    const result = await runNode();
    expect(result.code, result.stderr).toBe(0);
    const out = JSON.parse(result.stdout.trim().split('\n').pop() ?? 'null') as { storeSpec: string; startEmulator: string; refused: string };
    expect(out.storeSpec).toBe('function');
    expect(out.startEmulator).toBe('function');
    // The guard works: vitest itself is refused in that process.
    expect(out.refused).toContain('vitest was imported');
  });
});
