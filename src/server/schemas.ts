/**
 * The zod schemas of the HTTP API: they validate every request body and query,
 * check every JSON answer before it leaves, and make `/openapi.json`.
 */
import { z } from '@hono/zod-openapi';
import { runStatuses } from '../run/types.js';
import { sortKeys } from './list.js';

/** A workflow id as definitions spell it; also what keeps a lookup inside the definitions directory. */
export const WorkflowId = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z_][A-Za-z0-9_-]*$/, 'a workflow id: letters, digits, _ and -, starting with a letter or _')
  .openapi({ example: 'invoice-approval' });

/** A run id (or an unambiguous prefix of one, 4 characters or more, where a run is looked up). */
export const RunId = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]*$/, 'a run id: letters, digits, _ . : and -, starting with a letter or digit')
  .openapi({ example: '3f2a9c1e-8d4b-4c1f-9a77-0b5e2d6c4f10' });

export const StepName = z.string().min(1).max(128).regex(/^[A-Za-z_][A-Za-z0-9_-]*$/, 'a step id: letters, digits, _ and -');

export const RunIdParams = z.object({ id: RunId.openapi({ param: { name: 'id', in: 'path' } }) });

export const StartRunBody = z
  .strictObject({
    workflow: WorkflowId,
    input: z.unknown().optional().openapi({ description: 'the run input, checked against the definition\'s input schema' }),
    id: RunId.optional().openapi({ description: 'the caller\'s run id; starting the same id again answers the existing run' }),
  })
  .openapi('StartRun');

export const EventBody = z
  .strictObject({
    type: z
      .string()
      .min(1)
      .max(64)
      .regex(/^[A-Z][A-Z0-9_]*$/, 'an event type in capitals, e.g. APPROVE')
      .openapi({ example: 'APPROVE' }),
    data: z.unknown().optional().openapi({
      description: '`$event.data` in the definition; for a step under review, APPROVE takes `{ input }` (an edited tool input) and REJECT `{ reason }`',
    }),
    step: StepName.optional().openapi({ description: 'the step meant, when several waiting steps accept the event (parallel branches)' }),
  })
  .openapi('Event');

export const CancelBody = z.strictObject({ reason: z.string().min(1).max(500).optional() }).openapi('Cancel');

export const RerunBody = z
  .strictObject({
    from: StepName.openapi({ description: 'the first step to run again', example: 'extract' }),
    id: RunId.optional().openapi({ description: 'the new run\'s id' }),
  })
  .openapi('Rerun');

/** Epoch milliseconds or an ISO 8601 date-time. */
const Instant = z
  .string()
  .max(40)
  .refine((s) => Number.isFinite(toMillis(s)), 'epoch milliseconds or an ISO 8601 date-time')
  .transform(toMillis);

export function toMillis(text: string): number {
  if (/^\d{1,16}$/.test(text)) return Number(text);
  return /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : Number.NaN;
}

const Dollars = z
  .string()
  .max(32)
  .regex(/^\d+(\.\d+)?$/, 'dollars, e.g. 0.25')
  .transform(Number);

const statusList = z
  .string()
  .max(200)
  .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean))
  .pipe(z.array(z.enum(runStatuses as [string, ...string[]], { message: `one of ${runStatuses.join(', ')}` })).min(1));

/** The query of `GET /api/runs`; `maxPage` is the server's largest page. */
export function listQuery(maxPage: number) {
  return z.strictObject({
    status: statusList.optional().openapi({ description: `comma-separated: ${runStatuses.join(', ')}`, example: 'waiting' }),
    workflow: WorkflowId.optional(),
    since: Instant.optional().openapi({ description: 'runs created at or after (epoch ms or ISO date-time)' }),
    until: Instant.optional().openapi({ description: 'runs created before (epoch ms or ISO date-time)' }),
    minCost: Dollars.optional().openapi({ description: 'runs that cost at least this many dollars' }),
    maxCost: Dollars.optional().openapi({ description: 'runs that cost at most this many dollars' }),
    limit: z
      .string()
      .regex(/^\d{1,6}$/, 'a whole number')
      .transform(Number)
      .pipe(z.number().int().min(1).max(maxPage, `at most ${maxPage} runs per page`))
      .optional()
      .openapi({ description: `runs per page, 1 to ${maxPage} (default 50)` }),
    cursor: z.string().max(400).regex(/^[A-Za-z0-9_-]+$/, 'the nextCursor of the previous page').optional(),
    sort: z.enum(sortKeys, { message: `one of ${sortKeys.join(', ')}` }).optional().openapi({ description: 'the column to sort by (default createdAt); ties by run id' }),
    order: z.enum(['asc', 'desc'], { message: 'asc or desc' }).optional().openapi({ description: 'desc (default) or asc' }),
    children: z
      .enum(['true', 'false'], { message: 'true or false' })
      .transform((v) => v === 'true')
      .optional()
      .openapi({ description: 'true: list child runs (map items, sub-workflows) too; default false, top-level runs only' }),
  });
}

const cacheTokens = { cacheCreationInputTokens: z.number().optional(), cacheReadInputTokens: z.number().optional() };
export const Usage = z.object({ inputTokens: z.number(), outputTokens: z.number(), totalTokens: z.number(), usd: z.number(), ...cacheTokens });
const Failure = z.object({ kind: z.string(), step: z.string().nullable(), message: z.string() }).nullable();
const Status = z.enum(runStatuses as [string, ...string[]]);
const Wait = z.object({ step: z.string(), events: z.array(z.string()), timeoutAt: z.number().nullable(), timeoutAtIso: z.string().nullable() });

/** The run object: the fields of `stepwise run --json`. */
export const RunJsonSchema = z
  .object({
    runId: z.string(),
    workflow: z.string(),
    version: z.string(),
    status: Status,
    resumable: z.boolean(),
    redrivable: z.boolean().openapi({ description: 'it failed in a map step with failed items, which `stepwise redrive <runId>` runs again' }),
    output: z.unknown(),
    usage: Usage,
    budget: z.object({ tokens: z.number(), usd: z.number().nullable(), stopAt: z.number() }),
    steps: z.array(
      z.object({
        id: z.string(),
        visit: z.number(),
        status: z.string(),
        attempts: z.number(),
        tokens: z.number(),
        inputTokens: z.number(),
        outputTokens: z.number(),
        ...cacheTokens,
        startedAt: z.number(),
        startedAtIso: z.string(),
        endedAt: z.number().nullable(),
        endedAtIso: z.string().nullable(),
      }),
    ),
    waitingFor: Wait.nullable(),
    waits: z.array(Wait),
    failure: Failure,
    createdAt: z.number(),
    createdAtIso: z.string(),
    updatedAt: z.number(),
    updatedAtIso: z.string(),
  })
  .openapi('Run');

/** The object of `stepwise show --json`: the run plus its definition, timeline, prompt-cache figures and journal. */
export const RunDetailSchema = RunJsonSchema.extend({
  definition: z.object({ version: z.string(), source: z.string().nullable() }),
  timeline: z.unknown(),
  cache: z.array(
    z.object({
      step: z.string(),
      calls: z.number(),
      inputTokens: z.number(),
      cacheCreationInputTokens: z.number(),
      cacheReadInputTokens: z.number(),
      hitRate: z.number().openapi({ description: 'input tokens read from the prompt cache over all the step\'s input tokens, 0 to 1' }),
    }),
  ),
  journal: z.array(
    z.looseObject({ runId: z.string(), seq: z.number(), step: z.string().nullable(), event: z.string(), at: z.number(), data: z.unknown().optional() }),
  ),
  /** Child runs of `workflow` and `map` steps, oldest first. */
  children: z.array(z.object({ id: z.string(), workflow: z.string(), status: Status, step: z.string(), index: z.number().optional() })),
  /** For a child run: the run and step that started it. */
  parent: z
    .object({
      runId: z.string(),
      step: z.string(),
      visit: z.number(),
      index: z.number().optional(),
      attempt: z.number().optional(),
      round: z.number().optional(),
      resumed: z.number().optional().openapi({ description: "a map item: the parent map step's resume that last resumed it after it failed (1 for the first)" }),
      depth: z.number().optional().openapi({ description: 'levels below the top-level run: 1 for its children' }),
      maxDepth: z.number().optional().openapi({ description: 'the limits.maxDepth in force above: the smallest the runs above set' }),
    })
    .nullable(),
  /** The child runs this run waits on (at a `wait` of theirs), with the events each accepts. */
  waitingOn: z.array(z.object({ runId: z.string(), step: z.string(), events: z.array(z.string()) })),
}).openapi('RunDetail');

/** One row of `stepwise list --json`, plus the run's cost. */
export const RunRowSchema = z
  .object({
    runId: z.string(),
    workflow: z.string(),
    status: Status,
    version: z.string(),
    tokens: z.number(),
    usd: z.number(),
    failure: Failure,
    createdAt: z.number(),
    createdAtIso: z.string(),
    updatedAt: z.number(),
    updatedAtIso: z.string(),
  })
  .openapi('RunRow');

export const RunPageSchema = z
  .object({ runs: z.array(RunRowSchema), nextCursor: z.string().nullable().openapi({ description: 'pass as `cursor` for the next page; null on the last' }) })
  .openapi('RunPage');

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: 'invalid_request' }),
      message: z.string(),
      field: z.string().optional().openapi({ description: 'the request field at fault, e.g. `input.document` or `limit`' }),
    }),
  })
  .openapi('Error');

export const HealthSchema = z.object({ status: z.literal('ok') }).openapi('Health');

/** One step waiting for a person: an entry of `GET /api/inbox` and of `stepwise inbox --json`. */
export const InboxEntrySchema = z
  .strictObject({
    runId: z.string(),
    workflow: z.string(),
    step: z.string(),
    kind: z.enum(['review', 'wait']).openapi({ description: '`review`: a tool input Claude proposed awaits APPROVE or REJECT; `wait`: a wait step' }),
    waitingSince: z.number().openapi({ description: 'epoch ms' }),
    waitingSinceIso: z.string(),
    events: z.array(z.string()).openapi({ description: 'the event types the step accepts', example: ['APPROVE', 'REJECT'] }),
    tool: z.string().optional(),
    schema: z.record(z.string(), z.unknown()).optional().openapi({ description: 'the tool\'s input JSON Schema: what an edited input (APPROVE `data.input`) must match' }),
    proposed: z.unknown().optional().openapi({ description: 'the tool input Claude proposed' }),
    show: z.unknown().optional().openapi({ description: 'a wait\'s `show` data, evaluated when it was entered' }),
    prompt: z.string().optional().openapi({ description: 'what the step asks: a reviewed step\'s prompt as the model was sent it (templates evaluated; at most 2,000 characters, a longer one cut with …[trimmed N chars]), a wait step\'s description' }),
  })
  .openapi('InboxEntry');

export const InboxSchema = z.object({ entries: z.array(InboxEntrySchema) }).openapi('Inbox');

export const inboxQuery = z.strictObject({
  workflow: WorkflowId.optional(),
  limit: z
    .string()
    .regex(/^\d{1,6}$/, 'a whole number')
    .transform(Number)
    .pipe(z.number().int().min(1))
    .optional()
    .openapi({ description: 'at most this many entries' }),
});
