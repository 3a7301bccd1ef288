/**
 * Opens a store from the one-string form the CLI and the config use:
 * `memory`, `sqlite`, `sqlite:<path>`, `postgres:<url>` or a bare
 * `postgres://` / `postgresql://` URL. Backends load on demand, so `pg` is
 * only imported when a PostgreSQL store is asked for.
 */
import { resolve } from 'node:path';
import { StepwiseError } from '../errors.js';
import { redactSecrets } from '../util/redact.js';
import type { Store, StoreHooks } from './types.js';

/** Where `sqlite` (and an empty spec) puts the database, relative to the working directory. */
export const DEFAULT_SQLITE_PATH = '.stepwise/stepwise.db';

const ACCEPTED = '"memory", "sqlite", "sqlite:<path>", "postgres:<url>" or a postgres:// / postgresql:// URL';

export type StoreSpec =
  | { readonly kind: 'memory' }
  | { readonly kind: 'sqlite'; readonly path: string }
  | { readonly kind: 'postgres'; readonly url: string };

/** Parses a store spec without opening anything. Throws `StepwiseError('usage')` on an unknown form. */
export function parseStoreSpec(spec: string | undefined, options: { cwd?: string } = {}): StoreSpec {
  const cwd = options.cwd ?? process.cwd();
  const text = (spec ?? '').trim();
  if (text === 'memory') return { kind: 'memory' };
  if (text === '' || text === 'sqlite') return { kind: 'sqlite', path: resolve(cwd, DEFAULT_SQLITE_PATH) };
  if (text.startsWith('sqlite:')) {
    const path = text.slice('sqlite:'.length);
    if (path === ':memory:') return { kind: 'sqlite', path };
    return { kind: 'sqlite', path: resolve(cwd, path || DEFAULT_SQLITE_PATH) };
  }
  if (/^postgres(ql)?:\/\//.test(text)) return { kind: 'postgres', url: text };
  if (text.startsWith('postgres:') && text.length > 'postgres:'.length) return { kind: 'postgres', url: text.slice('postgres:'.length) };
  throw new StepwiseError('usage', `Unknown store "${redactSecrets(spec ?? '')}": use ${ACCEPTED}.`);
}

/** True when a spec names the embedded default: the SQLite file `.stepwise/stepwise.db` under the working directory. */
export function isDefaultStore(spec: string | undefined, options: { cwd?: string } = {}): boolean {
  const parsed = parseStoreSpec(spec, options);
  return parsed.kind === 'sqlite' && parsed.path === resolve(options.cwd ?? process.cwd(), DEFAULT_SQLITE_PATH);
}

/**
 * Opens and migrates the store a spec names.
 *
 * @example
 * const store = await openStore(process.env.STEPWISE_STORE ?? 'sqlite');   // <cwd>/.stepwise/stepwise.db
 * const other = await openStore('postgres://postgres@127.0.0.1:5432/app?schema=stepwise');
 */
export async function openStore(spec?: string, options: { cwd?: string; hooks?: StoreHooks } = {}): Promise<Store> {
  const parsed = parseStoreSpec(spec, options);
  const hooks = options.hooks ? { hooks: options.hooks } : {};
  let store: Store;
  switch (parsed.kind) {
    case 'memory':
      store = (await import('./memory.js')).createMemoryStore();
      break;
    case 'sqlite':
      store = (await import('./sqlite.js')).createSqliteStore({ path: parsed.path, ...hooks });
      break;
    case 'postgres':
      store = (await import('./postgres.js')).createPostgresStore({ url: parsed.url, ...hooks });
      break;
  }
  try {
    await store.migrate();
  } catch (error) {
    await store.close().catch(() => {});
    throw new StepwiseError('store_failed', `Could not open the ${parsed.kind} store: ${redactSecrets((error as Error).message)}`, { cause: error });
  }
  return store;
}
