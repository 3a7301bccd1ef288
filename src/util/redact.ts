/**
 * Removes secrets from text shown to people (errors, logs): the password of
 * any `scheme://user:password@host` URL and `password=` query parameters.
 * Store URLs carry database passwords, so every message that may hold one
 * passes through {@link redactSecrets}.
 */

/** `scheme://user:` then everything up to the last `@` of the URL (passwords may hold `/`, `:` or `@`). */
const userinfo = /(\b[a-z][a-z0-9+.-]*:\/\/[^\s"'`:/@]*):[^\s"'`]*@/gi;
const passwordParam = /([?&](?:password|passwd|pwd|sslpassword)=)[^&#\s"'`]*/gi;

/**
 * @example
 * redactSecrets('Not a URL: "postgres://app:s3cret@db:x/app"'); // 'Not a URL: "postgres://app:***@db:x/app"'
 */
export function redactSecrets(text: string): string {
  return text.replace(userinfo, '$1:***@').replace(passwordParam, '$1***');
}

/**
 * A URL (or store spec) known to be one whole URL, with its password hidden
 * however it is written: everything from the first `:` after the scheme's
 * `//` (or from the start, for a URL without `//`) to the last `@` becomes
 * `***`, whatever characters the password holds (spaces and quotes
 * included), and `password=` parameters too. Hides a bit more than needed
 * rather than less.
 *
 * @example
 * redactUrl('postgres://app:pa ss@db/app'); // 'postgres://app:***@db/app'
 * redactUrl('app:s3cret@db/app');          // 'app:***@db/app'
 */
export function redactUrl(url: string): string {
  const password = urlPassword(url);
  const out = password === null ? url : `${url.slice(0, password.start)}***${url.slice(password.end)}`;
  return redactSecrets(out);
}

/** Where the password of a whole URL (or store spec) is, as {@link redactUrl} reads it; `null` without one. */
export function urlPassword(url: string): { start: number; end: number; text: string } | null {
  const at = url.lastIndexOf('@');
  if (at < 0) return null;
  const authority = /^[a-z][a-z0-9+.-]*:\/\//i.exec(url)?.[0].length ?? 0;
  const colon = url.indexOf(':', authority);
  if (colon < 0 || colon >= at) return null;
  return { start: colon + 1, end: at, text: url.slice(colon + 1, at) };
}

/** `password: x`, `api_key=x`, `token=x`, `Authorization: Bearer x`: the name and separator stay, the value goes. */
const namedSecret =
  /\b((?:api[_-]?key|apikey|access[_-]?key|secret[_-]?key|client[_-]?secret|secret|access[_-]?token|auth[_-]?token|refresh[_-]?token|token|password|passwd|pwd|authorization|x-api-key)["']?\s*[:=]\s*["']?)(?:(?:Bearer|Basic|Token)\s+)?[^\s"'`,;]+/gi;
/** Credentials recognisable by their shape alone. */
const shapedSecrets: readonly RegExp[] = [
  /\bBearer\s+[A-Za-z0-9._~+/=-]{8,}/g, // bearer tokens
  /\b(?:sk|pk|rk)[-_](?:ant-|live_|test_|proj-)?[A-Za-z0-9_-]{16,}/g, // Anthropic, OpenAI, Stripe keys
  /\b(?:gh[pousr]|github_pat)_[A-Za-z0-9_]{20,}/g, // GitHub tokens
  /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g, // AWS access key ids
  /\bxox[abprs]-[A-Za-z0-9-]{10,}/g, // Slack tokens
  /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g, // JWTs
];

/**
 * {@link redactSecrets}, plus anything that looks like a key, token or
 * password: named values (`password: x`, `api_key=x`, `Authorization: Bearer x`)
 * and credentials recognisable by shape (`sk-ant-…`, `ghp_…`, `AKIA…`, JWTs).
 * For text that leaves the process, such as a tool error fed back to the model.
 *
 * @example
 * redactCredentials('login failed: password=hunter2 at https://svc:pw@erp/api'); // 'login failed: password=*** at https://svc:***@erp/api'
 */
export function redactCredentials(text: string): string {
  let out = redactSecrets(text).replace(namedSecret, (_match, name: string) => `${name}***`);
  for (const shape of shapedSecrets) out = out.replace(shape, '***');
  return out;
}

/** Shorter configured credentials are not hidden as such: a placeholder key ("x", "cassette") is a word, real keys and tokens are longer. */
export const MIN_SECRET_LENGTH = 16;

/**
 * A model server's text as it may be kept (journal, store, output, a cassette): the configured credentials (API key,
 * auth token), which a gateway may echo, and anything shaped like a credential (`sk-ant-…`, `Bearer …`, `api_key=…`) hidden.
 *
 * @example
 * withoutSecrets('bad key gw-0123456789abcdef', ['gw-0123456789abcdef']); // 'bad key ***'
 */
export function withoutSecrets(text: string, secrets: ReadonlyArray<string | null | undefined> = []): string {
  return redactCredentials(withoutConfigured(text, secrets));
}

/**
 * `text` with each of `secrets` (configured credentials) replaced by `***`; one `indexOf` per secret when none occurs.
 * A secret shorter than {@link MIN_SECRET_LENGTH} is a placeholder, not cut out of text.
 *
 * @example
 * withoutConfigured('you sent gw-0123456789abcdef', ['gw-0123456789abcdef']); // 'you sent ***'
 */
export function withoutConfigured(text: string, secrets: ReadonlyArray<string | null | undefined>): string {
  let out = text;
  for (const secret of secrets) {
    if (secret && secret.length >= MIN_SECRET_LENGTH && out.includes(secret)) out = out.split(secret).join('***');
  }
  return out;
}
