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
