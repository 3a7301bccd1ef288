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
