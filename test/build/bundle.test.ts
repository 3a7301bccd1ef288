/**
 * The built package is bundled (scripts/bundle.mjs): each entry point is a
 * file of dist/ and the code they share sits in dist/chunks/. A module the
 * entries share must exist once, whichever entry a program reaches it by, or
 * `instanceof` and module state (the step-kind registry, the clock class) split
 * in two. Checked on the built dist/, through the package's own exports.
 */
import { describe, expect, it } from 'vitest';
import { nodeScript } from '../cli/helpers.js';

const script = `
const main = await import('stepwise-engine');
const testing = await import('stepwise-engine/testing');
const { z } = await import('zod');
main.registerStepKind(main.defineStepKind({ name: 'probe_kind', schema: z.object({ probe_kind: z.literal(true) }), state: () => ({}), edges: () => [], label: () => '', pathEvents: () => [], handler: { advance: async () => ({ kind: 'rest' }) } }));
console.log(JSON.stringify({
  clock: main.ManualClock === testing.ManualClock,
  memoryStore: main.createMemoryStore === testing.createMemoryStore,
  kinds: main.stepKindList().map((k) => k.name),
}));
`;

describe('the bundled package', () => {
  it('gives one copy of a shared module through every entry point', async () => {
    const result = await nodeScript(script);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const seen = JSON.parse(result.stdout) as { clock: boolean; memoryStore: boolean; kinds: string[] };
    expect(seen.clock).toBe(true);
    expect(seen.memoryStore).toBe(true);
    expect(seen.kinds).toContain('probe_kind');
    expect(seen.kinds).toContain('map');
  });
});
