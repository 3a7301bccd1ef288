import { readFileSync } from 'node:fs';
import type { InspectionEvent } from 'xstate';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadDefinition } from '../../src/definition/load.js';
import { createEngine } from '../../src/engine/engine.js';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { createMemoryStore } from '../../src/store/memory.js';

let emu: Emulator;
beforeAll(async () => {
  emu = await startEmulator({ seed: 1 });
});
afterAll(() => emu.close());

it('createEngine({ inspect }) attaches the inspector to every run actor', async () => {
  const events: InspectionEvent[] = [];
  const engine = createEngine({ store: createMemoryStore(), model: { baseURL: emu.url, apiKey: 'x', maxRetries: 0 }, inspect: (e) => events.push(e) });
  const input = JSON.parse(readFileSync('definitions/invoice-approval.input.json', 'utf8'));
  const run = await engine.start(await loadDefinition('definitions/invoice-approval.yaml'), { input });
  await engine.send(run.runId, 'APPROVE', { by: 'cfo' });
  const values = events.filter((e) => e.type === '@xstate.snapshot').map((e) => JSON.stringify((e as unknown as { snapshot: { value: unknown } }).snapshot.value));
  expect(values).toEqual(expect.arrayContaining(['{"extract":"running"}', '"cfo_approval"', '"done"']));
  expect(events.filter((e) => e.type === '@xstate.actor').length).toBeGreaterThanOrEqual(2); // one actor per drive
});
