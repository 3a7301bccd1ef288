/**
 * `createServer(engine, options)`: the HTTP API over an engine, for
 * `stepwise serve` and for embedding. It drives runs in-process (start, send,
 * cancel and rerun take the run's lease, so `stepwise worker` processes on the
 * same store never race it) and reads through the query layer (src/query), so
 * it answers the same objects the CLI prints with `--json`.
 */
import { setMaxListeners } from 'node:events';
import { OpenAPIHono, type z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { Engine } from '../engine/engine.js';
import { rerun } from '../engine/rerun.js';
import { RunIdTakenError, RunNotFoundError, StepwiseError } from '../errors.js';
import { findRun, runJson } from '../query/run.js';
import { showRun } from '../query/show.js';
import type { ApiToken, AuthEnv } from './auth.js';
import { definitionCatalog, type DefinitionCatalog } from './definitions.js';
import { ApiError, errorBody, errorResponse, validationError } from './errors.js';
import { listPage } from './list.js';
import { listen, type ListenOptions, type ListeningServer } from './listen.js';
import { runDiagramSvg } from './diagram.js';
import { cancelRoute, diagramRoute, eventRoute, getRoute, healthRoute, inboxRoute, listRoute, rerunRoute, startRoute, streamRoute } from './routes.js';
import { InboxSchema, RunDetailSchema, RunJsonSchema, RunPageSchema } from './schemas.js';
import { inbox } from '../query/inbox.js';
import { apiAuth, createSessions, type SessionOptions } from './session.js';
import { mountSessionRoutes } from './session-routes.js';
import { streamRun } from './stream.js';
import { mountUi } from './ui/index.js';

export interface ServerOptions {
  /** The tokens the API accepts (`Authorization: Bearer <token>`). Required unless `auth` is `false`. */
  readonly tokens?: readonly ApiToken[];
  /** `false` turns auth off; such a server only listens on loopback. */
  readonly auth?: false;
  /** Where workflows are loaded by id: a directory (default `./definitions`) or a catalog, whose `get` answers `undefined` or `null` for an id it has not (404). */
  readonly definitions?: string | DefinitionCatalog;
  /** The largest request body (bytes); larger answers 413. Default 1 MiB. */
  readonly maxBodyBytes?: number;
  /** The largest event `data` (bytes of JSON); larger answers 400 naming `data`. Default 64 KiB. */
  readonly maxEventDataBytes?: number;
  /** The largest page of `GET /api/runs`; a larger `limit` answers 400. Default 500. */
  readonly maxPage?: number;
  /** How often a stream reads the store for changes other processes make (ms). Default 1000. */
  readonly streamPollMs?: number;
  /** Keep-alive comments on a quiet stream (ms). Default 15000. */
  readonly heartbeatMs?: number;
  /** Where the server reports errors it did not expect (never tokens or bodies). Default stderr. */
  readonly log?: (line: string) => void;
  /** The web UI's sessions (log in once with a token; cookie plus CSRF token). */
  readonly sessions?: SessionOptions;
}

export interface StepwiseServer {
  /** The Hono app: mount it in another one, or call `app.request()` in tests. */
  readonly app: OpenAPIHono<AuthEnv>;
  readonly fetch: (request: Request) => Response | Promise<Response>;
  /** Listens on `host:port` (default 127.0.0.1:0, a free port). */
  listen(options?: ListenOptions): Promise<ListeningServer>;
}

/** `find` of the run an `:id` names (an id or an unambiguous prefix); an ambiguous prefix is a 400 naming `id`. */
async function byId<T>(find: () => Promise<T>): Promise<T> {
  try {
    return await find();
  } catch (error) {
    if (error instanceof StepwiseError && error.code === 'usage') throw new ApiError(400, 'invalid_request', `id: ${error.message}`, 'id');
    throw error;
  }
}

/** The stored run an `:id` names. */
const runOf = (engine: Engine, id: string) => byId(() => findRun(engine.store, id));

const targetOf = (target: string): 'body' | 'query' | 'path' => (target === 'query' ? 'query' : target === 'param' ? 'path' : 'body');

/** Checks an answer against its schema, so no field leaves that the API does not describe. */
function reply(c: Context, schema: z.ZodType, value: unknown, status: 200 | 201 = 200): Response {
  return c.json(schema.parse(value) as object, status);
}

/**
 * Creates the HTTP API over `engine`.
 *
 * @example
 * ```ts
 * import { createEngine, openStore } from 'stepwise-engine';
 * import { createServer } from 'stepwise-engine/server';
 * const engine = createEngine({ store: await openStore('sqlite:.stepwise/stepwise.db') });
 * const server = await createServer(engine, { tokens: [{ token: process.env.STEPWISE_TOKEN! }] }).listen({ port: 8080 });
 * console.log(`listening on ${server.url}`);
 * ```
 */
export function createServer(engine: Engine, options: ServerOptions = {}): StepwiseServer {
  const tokens = options.tokens ?? [];
  if (options.auth !== false && tokens.length === 0) {
    throw new StepwiseError('usage', 'createServer needs at least one token (options.tokens), or auth: false for a loopback-only server');
  }
  if (tokens.some((t) => t.token.length === 0)) throw new StepwiseError('usage', 'an API token must not be empty');
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const catalog = typeof options.definitions === 'object' ? options.definitions : definitionCatalog(options.definitions ?? 'definitions');
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
  const maxEventDataBytes = options.maxEventDataBytes ?? 64 * 1024;
  const maxPage = options.maxPage ?? 500;
  // Closing the listening server ends the event streams, so requests still driving a run can finish and close cleanly.
  const closing = new AbortController();
  setMaxListeners(0, closing.signal); // one listener per open stream
  const streamOptions = { pollMs: options.streamPollMs ?? 1000, heartbeatMs: options.heartbeatMs ?? 15_000, closing: closing.signal };

  const app = new OpenAPIHono<AuthEnv>({
    defaultHook: (result) => {
      if (!result.success) throw validationError(result.error.issues, targetOf(result.target));
    },
  });
  app.onError((error, c) => errorResponse(error, c, log));
  app.notFound((c) => c.json(errorBody('not_found', `no route ${c.req.method} ${c.req.path}`), 404));
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer' });

  app.openapi(healthRoute, (c) => c.json({ status: 'ok' as const }, 200));
  app.doc31('/openapi.json', { openapi: '3.1.0', info: { title: 'Stepwise', version: '1' } });

  // The web UI (static page, script, styles) needs no token; every API call it makes does.
  mountUi(app);
  const sessions = createSessions(options.sessions);
  if (options.auth !== false) app.use('/api/*', apiAuth(tokens, sessions));
  else app.use('/api/*', async (c, next) => (c.set('by', 'api'), next()));
  app.use(
    '/api/*',
    bodyLimit({
      maxSize: maxBodyBytes,
      onError: (c) => c.json(errorBody('payload_too_large', `body: the request body is larger than ${maxBodyBytes} bytes`, 'body'), 413),
    }),
  );

  mountSessionRoutes(app, options.auth !== false ? tokens : null, sessions);

  app.openapi(startRoute, async (c) => {
    const body = c.req.valid('json');
    // A catalog says it has no such workflow with undefined or null (the directory's throws its own 404).
    const definition = await catalog.get(body.workflow);
    if (definition === undefined || definition === null) {
      throw new ApiError(404, 'workflow_not_found', `workflow: no definition with id "${body.workflow}" in the definition catalog`, 'workflow');
    }
    // The answer comes from what the store's create did (atomic), not from an earlier read: of concurrent starts of
    // one id exactly one is 201; a run of the same workflow answers the others 200, one of another workflow 409.
    try {
      const view = await engine.start(definition, { input: body.input ?? {}, ...(body.id !== undefined ? { runId: body.id, existing: 'refuse' } : {}) });
      return reply(c, RunJsonSchema, runJson(view), 201) as never;
    } catch (error) {
      if (!(error instanceof RunIdTakenError)) throw error;
      if (!error.sameWorkflow) throw new ApiError(409, 'run_exists', `id: the run "${error.runId}" exists and is a run of ${error.workflow}`, 'id');
      return reply(c, RunJsonSchema, runJson(await engine.get(error.runId)), 200) as never;
    }
  });

  app.openapi(listRoute(maxPage), async (c) => reply(c, RunPageSchema, await listPage(engine.store, c.req.valid('query'))) as never);

  app.openapi(inboxRoute, async (c) => {
    const { workflow, limit } = c.req.valid('query');
    const entries = await inbox(engine.store, { ...(workflow !== undefined ? { workflow } : {}), ...(limit !== undefined ? { limit } : {}), now: engine.clock.now() });
    return reply(c, InboxSchema, { entries }) as never;
  });

  // showRun finds the run itself (one read of the run, not two).
  app.openapi(getRoute, async (c) => reply(c, RunDetailSchema, await byId(() => showRun(engine.store, c.req.valid('param').id))) as never);

  app.openapi(eventRoute, async (c) => {
    const { type, data, step } = c.req.valid('json');
    if (data !== undefined && Buffer.byteLength(JSON.stringify(data)) > maxEventDataBytes) {
      throw new ApiError(400, 'invalid_request', `data: the event data is larger than ${maxEventDataBytes} bytes of JSON`, 'data');
    }
    const record = await runOf(engine, c.req.valid('param').id);
    const view = await engine.send(record.id, type, data, { by: c.get('by'), ...(step !== undefined ? { step } : {}) });
    return reply(c, RunJsonSchema, runJson(view)) as never;
  });

  app.openapi(cancelRoute, async (c) => {
    const { reason } = c.req.valid('json');
    const id = c.req.valid('param').id;
    // A run this server is starting is stored when its first step starts: until then the engine takes its cancel by its whole id.
    const runId = await runOf(engine, id).then(
      (record) => record.id,
      (error: unknown) => {
        if (error instanceof RunNotFoundError) return id;
        throw error;
      },
    );
    return reply(c, RunJsonSchema, runJson(await engine.cancel(runId, reason ?? `cancelled by ${c.get('by')}`))) as never;
  });

  app.openapi(rerunRoute, async (c) => {
    const { from, id } = c.req.valid('json');
    const record = await runOf(engine, c.req.valid('param').id);
    // A taken id is refused before the replay when a read finds it, and by the store's create when a concurrent rerun made it meanwhile.
    const taken = () => new ApiError(409, 'run_exists', `id: a run with id "${id}" already exists`, 'id');
    if (id !== undefined && (await engine.store.get(id))) throw taken();
    const view = await rerun(engine, record.id, from, id !== undefined ? { runId: id } : {}).catch((error: unknown) => {
      if (error instanceof RunIdTakenError) throw taken();
      // The step is missing, never reached, or the earlier steps do not replay the same way.
      if (error instanceof StepwiseError && error.code === 'usage') throw new ApiError(400, 'invalid_request', `from: ${error.message}`, 'from');
      throw error;
    });
    return reply(c, RunJsonSchema, runJson(view), 201) as never;
  });

  app.openapi(diagramRoute, async (c) => {
    const record = await runOf(engine, c.req.valid('param').id);
    c.header('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'");
    c.header('Cache-Control', 'no-store');
    return c.body(await runDiagramSvg(record), 200, { 'Content-Type': 'image/svg+xml; charset=utf-8' }) as never;
  });

  app.openapi(streamRoute, async (c) => {
    const record = await runOf(engine, c.req.valid('param').id);
    return streamRun(c, engine, await engine.get(record.id), streamOptions) as never;
  });

  const fetch = (request: Request) => app.fetch(request);
  return {
    app,
    fetch,
    listen: (listenOptions = {}) => listen(fetch, { ...listenOptions, authenticated: options.auth !== false, onClose: () => closing.abort() }),
  };
}
