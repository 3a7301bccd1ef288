/**
 * `POST /api/session` (log in with an API token: sets the session cookie,
 * answers the CSRF token), `GET /api/session` (who the cookie is, and its CSRF
 * token, so a reloaded page need not ask again), `DELETE /api/session` (log
 * out). With auth off every request is `api` and no session is needed.
 */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { tokenMatcher, type ApiToken, type AuthEnv } from './auth.js';
import { errorBody } from './errors.js';
import { ErrorSchema } from './schemas.js';
import { SESSION_COOKIE, clearSessionCookie, setSessionCookie, sessionOf, type Sessions } from './session.js';
import { getCookie } from 'hono/cookie';

const LoginBody = z.strictObject({ token: z.string().min(1).max(4096).openapi({ description: 'an API token the server accepts' }) }).openapi('Login');
export const SessionSchema = z
  .object({
    by: z.string().openapi({ description: 'who the session acts as (the token\'s label), journaled as `by`' }),
    csrfToken: z.string().nullable().openapi({ description: 'send as `X-CSRF-Token` on POST, PUT and DELETE; null when the server has no auth' }),
  })
  .openapi('Session');

const json = <T extends z.ZodType>(schema: T, description: string) => ({ content: { 'application/json': { schema } }, description });

const loginRoute = createRoute({
  method: 'post',
  path: '/api/session',
  summary: 'log in with an API token: sets an HttpOnly, SameSite=Strict session cookie and answers the CSRF token',
  request: { body: { content: { 'application/json': { schema: LoginBody } }, required: true } },
  responses: { 200: json(SessionSchema, 'signed in'), 400: json(ErrorSchema, 'no token given'), 401: json(ErrorSchema, 'the token is not valid') },
});

const whoRoute = createRoute({
  method: 'get',
  path: '/api/session',
  summary: 'the session of the cookie: who, and its CSRF token',
  responses: { 200: json(SessionSchema, 'signed in'), 401: json(ErrorSchema, 'no session') },
});

const logoutRoute = createRoute({
  method: 'delete',
  path: '/api/session',
  summary: 'log out: ends the session and clears its cookie (needs X-CSRF-Token)',
  responses: { 200: json(z.object({ ok: z.literal(true) }), 'signed out'), 401: json(ErrorSchema, 'no session'), 403: json(ErrorSchema, 'no or a wrong X-CSRF-Token') },
});

export function mountSessionRoutes(app: OpenAPIHono<AuthEnv>, tokens: readonly ApiToken[] | null, sessions: Sessions): void {
  const match = tokens ? tokenMatcher(tokens) : null;
  app.openapi(loginRoute, (c) => {
    if (!match) return c.json({ by: 'api', csrfToken: null }, 200);
    const by = match(c.req.valid('json').token);
    if (by === undefined) return c.json(errorBody('unauthorized', 'the token is not valid', 'token'), 401);
    const session = sessions.create(by);
    setSessionCookie(c, session.id, sessions);
    return c.json({ by, csrfToken: session.csrf }, 200);
  });
  app.openapi(whoRoute, (c) => {
    if (!match) return c.json({ by: 'api', csrfToken: null }, 200);
    const session = sessionOf(c, sessions);
    // A bearer request reaching here has no session of its own.
    if (!session) return c.json(errorBody('unauthorized', 'no session: log in with POST /api/session', 'cookie'), 401);
    return c.json({ by: session.by, csrfToken: session.csrf }, 200);
  });
  app.openapi(logoutRoute, (c) => {
    sessions.end(getCookie(c, SESSION_COOKIE));
    clearSessionCookie(c);
    return c.json({ ok: true as const }, 200);
  });
}
