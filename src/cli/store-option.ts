/**
 * Which store a command opens: `--store`, else `STEPWISE_STORE`, else the
 * default SQLite file; and the `--store` text a printed hint must repeat.
 */
import { isDefaultStore } from '../store/open.js';
import { redactUrl } from '../util/redact.js';

/** The environment variable naming the store when `--store` is not given. */
export const STORE_ENV = 'STEPWISE_STORE';

/** The store a command uses: its `--store` flag, else `STEPWISE_STORE`, else (undefined) the default SQLite file. */
export function storeSpec(flag: string | undefined): string | undefined {
  if (flag !== undefined) return flag;
  const fromEnv = process.env[STORE_ENV]?.trim();
  return fromEnv ? fromEnv : undefined;
}

/**
 * What a hint must repeat so its command opens the same store: ` --store <spec>`
 * when the flag named one other than the default (`STEPWISE_STORE` carries over
 * by itself), with any password hidden.
 */
export function storeArg(flag: string | undefined): string {
  if (flag === undefined || isDefaultStore(flag)) return '';
  const spec = redactUrl(flag);
  return ` --store ${/^[\w@%+=:,./-]+$/.test(spec) ? spec : `'${spec.replace(/'/g, `'\\''`)}'`}`;
}

