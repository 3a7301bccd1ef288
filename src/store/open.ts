/**
 * Opens a store from the one-string form the CLI and the config use:
 * `memory`, `sqlite`, `sqlite:<path>`, `postgres:<url>` or a bare
 * `postgres://` / `postgresql://` URL. Backends load on demand, so `pg` is
 * only imported when a PostgreSQL store is asked for. A store opened so fails
 * with `store_failed` errors that name it (./failures.ts), not the driver's own.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { StepwiseError } from '../errors.js';
import { redactSecrets, redactUrl, urlPassword } from '../util/redact.js';
import { messageOf } from '../util/error-message.js';
import { withNamedFailures } from './failures.js';
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
  throw new StepwiseError('usage', `Unknown store "${redactUrl(spec ?? '')}": use ${ACCEPTED}.`);
}

/** True when a spec names the embedded default: the SQLite file `.stepwise/stepwise.db` under the working directory. */
export function isDefaultStore(spec: string | undefined, options: { cwd?: string } = {}): boolean {
  const parsed = parseStoreSpec(spec, options);
  return parsed.kind === 'sqlite' && parsed.path === resolve(options.cwd ?? process.cwd(), DEFAULT_SQLITE_PATH);
}

/**
 * The store a spec names, for messages: `memory`, `sqlite:<absolute path>` or
 * the PostgreSQL URL with its password hidden.
 */
export function describeStore(spec: string | undefined, options: { cwd?: string } = {}): string {
  const parsed = parseStoreSpec(spec, options);
  if (parsed.kind === 'memory') return 'memory';
  if (parsed.kind === 'sqlite') return `sqlite:${parsed.path}`;
  return redactUrl(parsed.url);
}

/** `text` without the password of `url`, wherever it appears (a driver may quote the URL, or part of it, in its error). */
function withoutPassword(text: string, url: string): string {
  const password = urlPassword(url)?.text ?? '';
  return password.length > 0 ? text.split(password).join('***') : text;
}

/**
 * Only the default `.stepwise/` directory is created implicitly: a SQLite file
 * named elsewhere must be in a directory that exists, so a typo in a path is
 * an error instead of a new, empty database.
 */
function checkSqliteDirectory(path: string, cwd: string): void {
  if (path === ':memory:') return;
  const implicit = path === resolve(cwd, DEFAULT_SQLITE_PATH);
  const dir = dirname(path);
  const where = `Cannot open the store sqlite:${path}`;
  let isDirectory: boolean;
  try {
    isDirectory = statSync(dir).isDirectory();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && implicit) return;
    if (code === 'ENOENT') throw new StepwiseError('store_failed', `${where}: the directory ${dir} does not exist; create it first (only the default .stepwise/ directory is created for you).`);
    if (code === 'ENOTDIR') isDirectory = false;
    else throw new StepwiseError('store_failed', `${where}: ${(error as Error).message}`, { cause: error });
  }
  if (!isDirectory) throw new StepwiseError('store_failed', `${where}: ${dir} is not a directory.`);
}

/** Why SQLite could not open `path` ("unable to open database file" says nothing), or its own message. */
function sqliteReason(path: string, error: unknown): string {
  const message = (error as Error).message;
  if ((error as { code?: unknown }).code !== 'SQLITE_CANTOPEN') return message;
  try {
    if (statSync(path).isDirectory()) return `${message}: ${path} is a directory`;
  } catch {
    // No file yet: the directory must let us create it.
  }
  try {
    accessSync(dirname(path), constants.W_OK | constants.X_OK);
  } catch (denied) {
    return `${message}: the directory ${dirname(path)} is not writable (${(denied as NodeJS.ErrnoException).code ?? 'denied'})`;
  }
  return message;
}

/**
 * Opens and migrates the store a spec names. A SQLite file outside the default
 * `.stepwise/` directory must be in a directory that exists.
 *
 * @example
 * const store = await openStore(process.env.STEPWISE_STORE ?? 'sqlite');   // <cwd>/.stepwise/stepwise.db
 * const other = await openStore('postgres://postgres@127.0.0.1:5432/app?schema=stepwise');
 */
export async function openStore(spec?: string, options: { cwd?: string; hooks?: StoreHooks } = {}): Promise<Store> {
  const parsed = parseStoreSpec(spec, options);
  const hooks = options.hooks ? { hooks: options.hooks } : {};
  if (parsed.kind === 'sqlite') checkSqliteDirectory(parsed.path, options.cwd ?? process.cwd());
  const failed = (error: unknown) => {
    if (error instanceof StepwiseError) return error;
    const reason = parsed.kind === 'sqlite' ? sqliteReason(parsed.path, error) : withoutPassword((error as Error).message, parsed.kind === 'postgres' ? parsed.url : '');
    return new StepwiseError('store_failed', `Could not open the ${parsed.kind} store ${describeStore(spec, options)}: ${redactSecrets(reason)}`, { cause: error });
  };
  let store: Store;
  try {
    switch (parsed.kind) {
      case 'memory':
        store = (await import('./memory.js')).createMemoryStore();
        break;
      case 'sqlite':
        // Creating the SQLite store opens the file (and migrates it) at once: its errors (EACCES, not a database) are the store's.
        store = (await import('./sqlite.js')).createSqliteStore({ path: parsed.path, ...hooks });
        break;
      case 'postgres':
        store = (await import('./postgres.js')).createPostgresStore({ url: parsed.url, ...hooks });
        break;
    }
  } catch (error) {
    throw failed(error);
  }
  try {
    await store.migrate();
  } catch (error) {
    await store.close().catch(() => {});
    throw failed(error);
  }
  if (parsed.kind === 'memory') return store;
  // From now on a driver's error (disk full, a connection the server terminated) is the store failing, and says which.
  const url = parsed.kind === 'postgres' ? parsed.url : '';
  return withNamedFailures(store, (error) => {
    const message = withoutPassword(messageOf(error), url);
    const code = (error as { code?: unknown } | null)?.code;
    const named = typeof code === 'string' && !message.includes(code) ? `${message} (${code})` : message;
    return new StepwiseError('store_failed', `The ${parsed.kind} store ${describeStore(spec, options)} failed: ${redactSecrets(named)}`, { cause: error });
  });
}
