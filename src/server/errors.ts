/**
 * Errors as HTTP answers: `{ error: { code, message, field? } }` with the
 * status a client can act on. A rejected request always names the field at
 * fault; an unexpected error answers 500 without its message (which stays in
 * the server's log, never a token or a request body).
 */
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { z } from '@hono/zod-openapi';
import { StepwiseError, type ErrorCode } from '../errors.js';

/** An error the API answers with a status and, for a bad request, the field at fault. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

const statusOf: Partial<Record<ErrorCode, ContentfulStatusCode>> = {
  run_not_found: 404,
  event_not_accepted: 409,
  event_invalid: 400,
  run_busy: 409,
  run_exists: 409,
  input_invalid: 400,
  usage: 400,
  definition_invalid: 422,
};

/** The field a StepwiseError is about, when the request had one. */
const fieldOf: Partial<Record<ErrorCode, string>> = { input_invalid: 'input' };

export function errorBody(code: string, message: string, field?: string) {
  return { error: { code, message, ...(field !== undefined ? { field } : {}) } };
}

/**
 * A field's path as people write it: `input.items[0].name`, `body[""]` for a
 * key that is no identifier, the target (`body`, `query`) for the whole value.
 */
export function fieldName(path: readonly PropertyKey[], target: string): string {
  let name = '';
  for (const key of path) {
    if (typeof key === 'number') name += `[${key}]`;
    else if (typeof key === 'string' && /^[A-Za-z_$][\w$-]*$/.test(key)) name += name ? `.${key}` : key;
    else name += `[${JSON.stringify(String(key))}]`;
  }
  return name === '' ? target : name.startsWith('[') ? `${target}${name}` : name;
}

/** The first issue of a failed zod parse, as a 400 naming its field (`body` when the whole value is wrong). */
export function validationError(issues: readonly z.core.$ZodIssue[], target: 'body' | 'query' | 'path'): ApiError {
  const issue = issues[0];
  if (!issue) return new ApiError(400, 'invalid_request', `the request ${target} is invalid`, target);
  const keys = issue.code === 'unrecognized_keys' ? issue.keys : [];
  const field = fieldName([...issue.path, ...keys.slice(0, 1)], target);
  const what = issue.code === 'unrecognized_keys' ? `unknown field${keys.length > 1 ? 's' : ''} ${keys.join(', ')}` : issue.message;
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
  return new ApiError(400, 'invalid_request', `${field}: ${what}${more}`, field);
}

/** The answer to an error thrown by a route; unexpected errors go to `log` by message only. */
export function errorResponse(error: unknown, c: Context, log: (line: string) => void): Response {
  if (error instanceof ApiError) return c.json(errorBody(error.code, error.message, error.field), error.status);
  if (error instanceof StepwiseError) {
    const status = statusOf[error.code];
    const field = 'field' in error && typeof error.field === 'string' ? error.field : fieldOf[error.code];
    if (status) return c.json(errorBody(error.code, error.message, field), status);
  }
  if (error instanceof HTTPException) {
    // Hono's own: a malformed JSON body, mostly.
    const status = error.status as ContentfulStatusCode;
    return c.json(errorBody(status === 400 ? 'invalid_request' : 'http_error', error.message || 'bad request', status === 400 ? 'body' : undefined), status);
  }
  log(`stepwise serve: ${c.req.method} ${c.req.path}: ${error instanceof Error ? `${error.name}: ${error.message}` : 'unknown error'}`);
  return c.json(errorBody('internal', 'the server failed on this request; its log has the cause'), 500);
}
