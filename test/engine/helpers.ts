/** Shared set-up for the engine integration tests: real SQLite files, the emulator, a manual clock. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadDefinition, type LoadedDefinition } from '../../src/definition/load.js';
import { startEmulator, type Emulator, type EmulatorOptions } from '../../src/emulator/index.js';
import { ManualClock } from '../../src/engine/clock.js';
import { createEngine, type Engine, type EngineOptions } from '../../src/engine/engine.js';
import { createSqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/types.js';
import { MODEL_TIMEOUT_MS } from '../budgets.js';

export const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const definitionPath = (name: string) => join(root, 'definitions', name);

export const examples = ['invoice-approval.yaml', 'support-triage.yaml', 'lead-enrichment.ts'] as const;

export function inputOf(example: string): unknown {
  return JSON.parse(readFileSync(definitionPath(`${example.replace(/\.(yaml|ts)$/, '')}.input.json`), 'utf8'));
}

export const load = (example: string): Promise<LoadedDefinition> => loadDefinition(definitionPath(example));

export interface Harness {
  readonly dir: string;
  readonly dbPath: string;
  readonly emu: Emulator;
  readonly stores: Store[];
  /** An engine on a new store over the same SQLite file (with `extra` engine options). */
  engine(extra?: Partial<EngineOptions>): Engine;
  close(): Promise<void>;
}

export async function harness(options: EmulatorOptions = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'stepwise-engine-'));
  const dbPath = join(dir, 'runs.db');
  const emu = await startEmulator({ seed: 1, ...options });
  const stores: Store[] = [];
  return {
    dir,
    dbPath,
    emu,
    stores,
    engine(extra = {}) {
      const store = createSqliteStore({ path: dbPath });
      stores.push(store);
      return createEngine({
        store,
        model: { baseURL: emu.url, apiKey: 'x', maxRetries: 0, timeoutMs: MODEL_TIMEOUT_MS },
        clock: new ManualClock({ autoAdvance: true }),
        ...extra,
      });
    },
    async close() {
      for (const store of stores) await store.close();
      await emu.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
