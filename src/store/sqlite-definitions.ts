/**
 * Workflow definitions on SQLite, stored once per distinct text in the
 * `definitions` table (keyed by the SHA-256 of the text) instead of in every
 * runs row, which each commit rewrites. Run rows carry the key; reading a run
 * turns it back into the parsed definition, parsed once per key and shared by
 * the records (a definition never changes).
 */
import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';
import { SQLITE_HASH_FUNCTION } from './migrations.js';

/** The key of a definition's JSON text. */
export function definitionHash(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Registers the hash as the SQL function the migrations call; before they run. */
export function registerDefinitionHash(db: Database.Database): void {
  db.function(SQLITE_HASH_FUNCTION, { deterministic: true }, (text: unknown) => definitionHash(String(text)));
}

export interface Definitions {
  /** Stores the definition's text under its key (once) and returns the key. Inside a write transaction. */
  put(text: string): string;
  /** The parsed definition under `hash`; `undefined` when no row holds it (its runs were pruned meanwhile). */
  get(hash: string): unknown;
}

/** Parsed definitions kept per key; bounded, cleared when full. */
const MAX_CACHED = 256;

export function sqliteDefinitions(db: Database.Database): Definitions {
  const insert = db.prepare('INSERT INTO definitions (hash, definition) VALUES (?, ?) ON CONFLICT (hash) DO NOTHING');
  const select = db.prepare<[string], string>('SELECT definition FROM definitions WHERE hash = ?').pluck();
  const parsed = new Map<string, unknown>();
  /** Keys of texts hashed before (by text), so a definition's runs hash it once. */
  const hashes = new Map<string, string>();
  return {
    put(text) {
      let hash = hashes.get(text);
      if (hash === undefined) {
        hash = definitionHash(text);
        if (hashes.size >= MAX_CACHED) hashes.clear();
        hashes.set(text, hash);
      }
      insert.run(hash, text);
      return hash;
    },
    get(hash) {
      let definition = parsed.get(hash);
      if (definition === undefined) {
        const text = select.get(hash);
        if (text === undefined) return undefined;
        definition = JSON.parse(text) as unknown;
        if (parsed.size >= MAX_CACHED) parsed.clear();
        parsed.set(hash, definition);
      }
      return definition;
    },
  };
}
