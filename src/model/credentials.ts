/**
 * The credentials a model client sends (its API key, its auth token), as text
 * to hide wherever what a model server said is kept or shown: a gateway may
 * echo either into an error, a model into a tool input. The keys Stepwise
 * sets where none is needed are placeholders, not secrets.
 */
import { MIN_SECRET_LENGTH } from '../util/redact.js';

/** The key sent to a server named by a base URL without one (the SDK sends nothing without a credential). */
export const NO_KEY = 'stepwise-no-key';
/** The key of the CLI's built-in emulator, which takes any. */
export const EMULATOR_KEY = 'stepwise-emulator';

const placeholders: ReadonlySet<string> = new Set([NO_KEY, EMULATOR_KEY]);

/**
 * The configured API key and auth token of `client` worth hiding: set, not a placeholder, at least
 * {@link MIN_SECRET_LENGTH} characters. Empty for a client with neither (then nothing is searched for).
 *
 * @example
 * credentialsOf(new Anthropic({ baseURL, authToken: 'gw-0123456789abcdefXYZ' })); // ['gw-0123456789abcdefXYZ']
 */
export function credentialsOf(client: { readonly apiKey: string | null; readonly authToken?: string | null }): readonly string[] {
  return [client.apiKey, client.authToken].filter((value): value is string => typeof value === 'string' && value.length >= MIN_SECRET_LENGTH && !placeholders.has(value));
}
