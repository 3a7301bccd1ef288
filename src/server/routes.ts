/** The API's routes as OpenAPI descriptions: paths, request schemas, answers. */
import { createRoute, z } from '@hono/zod-openapi';
import {
  CancelBody,
  ErrorSchema,
  EventBody,
  HealthSchema,
  InboxSchema,
  inboxQuery,
  RerunBody,
  RunDetailSchema,
  RunIdParams,
  RunJsonSchema,
  RunPageSchema,
  StartRunBody,
  listQuery,
} from './schemas.js';

const json = <T extends z.ZodType>(schema: T, description: string) => ({ content: { 'application/json': { schema } }, description });
const body = <T extends z.ZodType>(schema: T, required = true) => ({ content: { 'application/json': { schema } }, required });
const errors = {
  400: json(ErrorSchema, 'a field of the request is invalid; `error.field` names it'),
  401: json(ErrorSchema, 'no or a wrong bearer token'),
  404: json(ErrorSchema, 'no such run or workflow'),
  413: json(ErrorSchema, 'the request body is too large'),
};
const security = [{ bearer: [] }];

export const healthRoute = createRoute({
  method: 'get',
  path: '/health',
  summary: 'liveness; needs no token',
  responses: { 200: json(HealthSchema, 'the server is up') },
});

export const startRoute = createRoute({
  method: 'post',
  path: '/api/runs',
  summary: 'start a run of a workflow (by id) and drive it until it waits, finishes or fails',
  security,
  request: { body: body(StartRunBody) },
  responses: {
    200: json(RunJsonSchema, 'a run with this id already existed: it, unchanged'),
    201: json(RunJsonSchema, 'the new run, as `stepwise run --json` prints it'),
    ...errors,
    409: json(ErrorSchema, 'the id is taken by a run of another workflow (`run_exists`): nothing changed'),
    422: json(ErrorSchema, 'the workflow\'s definition file is invalid'),
  },
});

export const listRoute = (maxPage: number) =>
  createRoute({
    method: 'get',
    path: '/api/runs',
    summary: 'runs, newest first, filtered and paginated',
    security,
    request: { query: listQuery(maxPage) },
    responses: { 200: json(RunPageSchema, 'a page of runs'), ...errors },
  });

export const getRoute = createRoute({
  method: 'get',
  path: '/api/runs/{id}',
  summary: 'a run with its timeline and journal, as `stepwise show --json` prints it',
  security,
  request: { params: RunIdParams },
  responses: { 200: json(RunDetailSchema, 'the run'), ...errors },
});

export const eventRoute = createRoute({
  method: 'post',
  path: '/api/runs/{id}/events',
  summary: 'send an event the run waits for (e.g. APPROVE) and drive it on',
  security,
  request: { params: RunIdParams, body: body(EventBody) },
  responses: {
    200: json(RunJsonSchema, 'the run after the event'),
    ...errors,
    409: json(ErrorSchema, 'the run does not wait for this event (now): nothing changed'),
    // 400 also answers an edited input (APPROVE `data.input`) the tool's schema refuses, naming the field (`data.input.amount`).
  },
});

export const cancelRoute = createRoute({
  method: 'post',
  path: '/api/runs/{id}/cancel',
  summary: 'cancel a run (a finished run stays as it ended)',
  security,
  request: { params: RunIdParams, body: body(CancelBody, false) },
  responses: { 200: json(RunJsonSchema, 'the run'), ...errors, 409: json(ErrorSchema, 'another process holds the run; the cancel is recorded') },
});

export const rerunRoute = createRoute({
  method: 'post',
  path: '/api/runs/{id}/rerun',
  summary: 'a new run from a step, keeping the outputs of the steps before it',
  security,
  request: { params: RunIdParams, body: body(RerunBody) },
  responses: { 201: json(RunJsonSchema, 'the new run'), ...errors, 409: json(ErrorSchema, 'a run has this id already (`run_exists`): nothing changed') },
});

export const streamRoute = createRoute({
  method: 'get',
  path: '/api/runs/{id}/stream',
  summary: 'Server-Sent Events: one `run` event (the run object) per committed transition',
  security,
  request: { params: RunIdParams },
  responses: { 200: { content: { 'text/event-stream': { schema: z.string() } }, description: 'the event stream' }, ...errors },
});

export const inboxRoute = createRoute({
  method: 'get',
  path: '/api/inbox',
  summary: 'steps waiting for a person across runs, newest first: waits (with their `show` data) and tool inputs under review; a step whose window closed (its timeout or a deadline passed, on the engine\'s clock) is left out',
  security,
  request: { query: inboxQuery },
  responses: { 200: json(InboxSchema, 'the waiting steps'), ...errors },
});

export const diagramRoute = createRoute({
  method: 'get',
  path: '/api/runs/{id}/diagram.svg',
  summary: 'the run\'s workflow as SVG, its current steps outlined thick orange and visited steps blue',
  security,
  request: { params: RunIdParams },
  responses: { 200: { content: { 'image/svg+xml': { schema: z.string() } }, description: 'the diagram' }, ...errors },
});
