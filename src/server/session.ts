/**
 * Browser sessions for the web UI. The page asks for an API token once and
 * posts it to `POST /api/session`; the server answers a random session id in
 * an HttpOnly, SameSite=Strict cookie and a CSRF token the page keeps in
 * memory. A request authenticated by that cookie that changes anything
 * (POST, PUT, PATCH, DELETE) must carry `X-CSRF-Token` equal to the
 * session's; a request with `Authorization: Bearer` is checked as before and
 * needs no CSRF token. Sessions live in this server's memory only: a restart
 * logs everyone out. Tokens are compared in constant time and never stored,
 * logged or echoed.
 */
import { randomBytes, timingSafeEqual, createHash } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { bearerAuth, type ApiToken, type AuthEnv } from './auth.js';
import { errorBody } from './errors.js';
import { BoundedMap } from '../util/bounded-map.js';

export const SESSION_COOKIE = 'stepwise_session';
export const CSRF_HEADER = 'x-csrf-token';

export interface Session {
  /** Who the session acts as: the label of the token it logged in with. */
  readonly by: string;
  readonly csrf: string;
}

export interface SessionOptions {
  /** A session unused this long (ms) ends. Default 12 hours. */
  readonly idleMs?: number;
  /** At most this many sessions; logging in past it ends the oldest. Default 1000. */
  readonly max?: number;
  readonly now?: () => number;
}

export interface Sessions {
  readonly idleMs: number;
  create(by: string): { id: string } & Session;
  /** The live session of `id` (its idle time starts again), or undefined. */
  get(id: string | undefined): Session | undefined;
  end(id: string | undefined): void;
}

const randomId = () => randomBytes(32).toString('base64url');
const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();
const same = (a: string, b: string) => timingSafeEqual(digest(a), digest(b));

/** An in-memory session table; one per server. */
export function createSessions(options: SessionOptions = {}): Sessions {
  const idleMs = options.idleMs ?? 12 * 60 * 60 * 1000;
  const now = options.now ?? Date.now;
  // Ordered by last use: a live `get` touches its session, and a login past `max` ends the least recently used.
  const table = new BoundedMap<string, Session & { seen: number }>(Math.max(1, Math.trunc(options.max ?? 1000)));
  return {
    idleMs,
    create(by) {
      const session = { by, csrf: randomId(), seen: now() };
      const id = randomId();
      table.set(id, session);
      return { id, by: session.by, csrf: session.csrf };
    },
    get(id) {
      if (id === undefined) return undefined;
      const session = table.get(id);
      if (!session) return undefined;
      if (now() - session.seen > idleMs) {
        table.delete(id);
        return undefined;
      }
      table.set(id, { ...session, seen: now() });
      return { by: session.by, csrf: session.csrf };
    },
    end(id) {
      if (id !== undefined) table.delete(id);
    },
  };
}

/** Sets the session cookie: HttpOnly, SameSite=Strict, Path=/, Secure when the request came over https. */
export function setSessionCookie(c: Context, id: string, sessions: Sessions): void {
  setCookie(c, SESSION_COOKIE, id, {
    httpOnly: true,
    sameSite: 'Strict',
    path: '/',
    maxAge: Math.floor(sessions.idleMs / 1000),
    secure: new URL(c.req.url).protocol === 'https:',
  });
}

export function clearSessionCookie(c: Context): void {
  deleteCookie(c, SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'Strict' });
}

export const sessionOf = (c: Context, sessions: Sessions): Session | undefined => sessions.get(getCookie(c, SESSION_COOKIE));

const safeMethods = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Auth for `/api/*`: a bearer token as {@link bearerAuth} checks it, else the
 * session cookie, with the CSRF header on requests that change something.
 * `POST /api/session` (logging in) passes through.
 */
export function apiAuth(tokens: readonly ApiToken[], sessions: Sessions): MiddlewareHandler<AuthEnv> {
  const bearer = bearerAuth(tokens);
  return async (c, next) => {
    if (c.req.path === '/api/session' && c.req.method === 'POST') return next();
    if (c.req.header('authorization') !== undefined) return bearer(c, next);
    const session = sessionOf(c, sessions);
    if (!session) return bearer(c, next); // answers the 401
    if (!safeMethods.has(c.req.method)) {
      const given = c.req.header(CSRF_HEADER);
      if (given === undefined || !same(given, session.csrf)) {
        return c.json(errorBody('csrf_failed', `${CSRF_HEADER}: a request signed in by cookie must send the X-CSRF-Token header its session got`, CSRF_HEADER), 403);
      }
    }
    c.set('by', session.by);
    await next();
  };
}
