/**
 * `stepwise-engine/testing` exports the store conformance suite from the built
 * package, and loading it pulls in no test runner: a process whose module
 * resolution refuses `vitest` still imports it.
 */
import { describe, expect, it } from 'vitest';
import { nodeScript } from '../cli/helpers.js';

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

describe('stepwise-engine/testing', () => {
  it('exports storeSpec and loads without vitest', async () => {
    const result = await nodeScript(script);
    expect(result.code, result.stderr).toBe(0);
    const out = JSON.parse(result.stdout.trim().split('\n').pop() ?? 'null') as { storeSpec: string; startEmulator: string; refused: string };
    expect(out.storeSpec).toBe('function');
    expect(out.startEmulator).toBe('function');
    // The guard works: vitest itself is refused in that process.
    expect(out.refused).toContain('vitest was imported');
  });
});
