/**
 * Bearer-token auth for every `/api` route. Tokens are compared in constant
 * time (SHA-256 digests of equal length through `timingSafeEqual`), never
 * logged, never echoed; the label of the token that matched is who sent an
 * event (`by` in the journal).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { errorBody } from './errors.js';

/** One accepted token and the name its requests act under. */
export interface ApiToken {
  readonly token: string;
  /** Who the token's requests are, journaled as `by` (default `api`). */
  readonly label?: string;
}

export type AuthEnv = { Variables: { by: string } };

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/** Whether `given` equals `expected`, in time independent of where they differ. */
export function sameToken(given: string, expected: Buffer): boolean {
  return timingSafeEqual(digest(given), expected);
}

/**
 * A matcher over `tokens`: the label of the token `given` equals, or undefined.
 * Every token is compared, so the time taken does not tell which one nearly matched.
 */
export function tokenMatcher(tokens: readonly ApiToken[]): (given: string) => string | undefined {
  const expected = tokens.map((t) => ({ digest: digest(t.token), label: t.label ?? 'api' }));
  return (given) => {
    let by: string | undefined;
    for (const t of expected) if (sameToken(given, t.digest) && by === undefined) by = t.label;
    return by;
  };
}

/** The middleware: 401 without a matching `Authorization: Bearer <token>`, else sets `by`. */
export function bearerAuth(tokens: readonly ApiToken[]): MiddlewareHandler<AuthEnv> {
  const match = tokenMatcher(tokens);
  return async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const given = /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
    const by = given !== undefined ? match(given) : undefined;
    if (by === undefined) {
      c.header('WWW-Authenticate', 'Bearer realm="stepwise"');
      return c.json(errorBody('unauthorized', given === undefined ? 'send Authorization: Bearer <token>' : 'the token is not valid', 'authorization'), 401);
    }
    c.set('by', by);
    await next();
  };
}
