/**
 * Errors Stepwise raises. Every error is a {@link StepwiseError} with a string
 * `code` a caller can switch on; the original error stays in `cause`.
 */
import { closestMatch } from './definition/suggest.js';

export type ErrorCode =
  | 'definition_invalid'
  | 'expression_failed'
  | 'tool_missing'
  | 'tool_failed'
  | 'input_invalid'
  | 'model_failed'
  | 'budget_exhausted'
  | 'run_not_found'
  | 'run_exists'
  | 'event_not_accepted'
  | 'event_invalid'
  | 'store_failed'
  | 'emulator_failed'
  | 'run_busy'
  | 'lease_lost'
  | 'usage';

export class StepwiseError extends Error {
  override name = 'StepwiseError';
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }
}

/** One problem in a definition, located in its source file when there is one. */
export interface DefinitionIssue {
  readonly file: string;
  readonly line: number;
  readonly col: number;
  /** Dotted path of the field, e.g. `steps.extract.claude.tool`. */
  readonly path: string;
  readonly message: string;
}

/** Formats an issue as `file:line:col: path: message`. */
export function formatIssue(issue: DefinitionIssue): string {
  const where = `${issue.file}:${issue.line}:${issue.col}`;
  return issue.path ? `${where}: ${issue.path}: ${issue.message}` : `${where}: ${issue.message}`;
}

const SHOWN_ISSUES = 5;

export class DefinitionError extends StepwiseError {
  override name = 'DefinitionError';
  readonly issues: readonly DefinitionIssue[];

  constructor(issues: readonly DefinitionIssue[]) {
    const shown = issues.slice(0, SHOWN_ISSUES).map(formatIssue);
    const more = issues.length > SHOWN_ISSUES ? [`… and ${issues.length - SHOWN_ISSUES} more`] : [];
    super('definition_invalid', [...shown, ...more].join('\n'));
    this.issues = issues;
  }
}

export class RunNotFoundError extends StepwiseError {
  override name = 'RunNotFoundError';
  readonly runId: string;
  /**
   * @param store The store looked in, as people name it (`sqlite:/path/x.db`), when known.
   * @param listCommand The command that lists that store's runs.
   */
  constructor(runId: string, store?: string, listCommand = 'stepwise list') {
    super('run_not_found', `No run with id "${runId}" in ${store ? `the store ${store}` : 'this store'}. List runs with \`${listCommand}\`.`);
    this.runId = runId;
  }
}

/**
 * A start (or rerun) given a run id that is taken: by a run of another workflow, or by any run when the caller
 * asked to create one only (`existing: 'refuse'`, a rerun). Nothing was started or changed.
 */
export class RunIdTakenError extends StepwiseError {
  override name = 'RunIdTakenError';
  /** The request field at fault. */
  readonly field = 'id';
  /**
   * @param workflow The workflow of the run that has the id.
   * @param requested The workflow the caller meant to start.
   */
  constructor(
    readonly runId: string,
    readonly workflow: string,
    readonly requested: string,
  ) {
    const whose = workflow === requested ? `a run of ${workflow} already` : `a run of ${workflow}, not of ${requested}`;
    super('run_exists', `The run id "${runId}" is taken by ${whose}: nothing was started or changed. Use another id, or none for a new one.`);
  }

  /** Whether the run that has the id is of the workflow the caller meant to start. */
  get sameWorkflow(): boolean {
    return this.workflow === this.requested;
  }
}

/** Where a run waits, for the refusal of an event sent to a step that does not take it: the steps and what they accept. */
export interface RunWaits {
  readonly steps: readonly string[];
  readonly events: readonly string[];
  /** The step the event was sent to is not a step of the run's definition at all. */
  readonly unknownStep: boolean;
}

export class EventNotAcceptedError extends StepwiseError {
  override name = 'EventNotAcceptedError';
  /**
   * @param fired What the run's due timers did before the event was looked at (`the wait at "ask" timed out at …`):
   * their effect is committed, so the message says so instead of "Nothing was changed".
   * @param waits With `step`, when that step takes no event now: where the run does wait, which the message names.
   */
  constructor(runId: string, event: string, accepted: readonly string[], step?: string, fired?: string, waits?: RunWaits) {
    const changed = fired ? `Its timers were due and fired first: ${fired}; the event changed nothing.` : 'Nothing was changed.';
    if (step !== undefined && waits) {
      const where = waits.steps.length ? `it waits at ${waits.steps.join(', ')} for ${waits.events.join(', ')}` : 'it is not waiting for any event';
      const head = waits.unknownStep ? `Run "${runId}" has no step "${step}" that waits` : `Run "${runId}" does not accept ${event} at step "${step}" now: that step is not waiting`;
      super('event_not_accepted', `${head}${waits.unknownStep ? ':' : ';'} ${where}. ${changed}`);
      return;
    }
    const what = accepted.length ? `it accepts ${accepted.join(', ')}` : 'it is not waiting for any event';
    const close = closestMatch(event, accepted);
    const at = step !== undefined ? ` at step "${step}"` : '';
    super('event_not_accepted', `Run "${runId}" does not accept ${event}${at} now: ${what}.${close ? ` Did you mean ${close}?` : ''} ${changed}`);
  }
}

/** An event the run waits for, whose data the waiting step refuses (e.g. an edited tool input its schema rejects). */
export class EventDataInvalidError extends StepwiseError {
  override name = 'EventDataInvalidError';
  /** The field at fault, e.g. `data.input.amount`. */
  readonly field: string | undefined;
  constructor(runId: string, event: string, message: string, field?: string) {
    super('event_invalid', `Run "${runId}" refused ${event}: ${message}. Nothing was changed.`);
    this.field = field;
  }
}

/** What a tool says about its own failure. */
export interface ToolErrorOptions {
  readonly cause?: unknown;
  /**
   * Whether another attempt may succeed: `true` (e.g. an input Claude can
   * correct), `false` (the step fails at once, to its `onError` route). Unset,
   * the step's `retryOn` list decides, else the error is retried.
   */
  readonly retryable?: boolean;
  /** The tool's own name for the failure (e.g. `vendor_unknown`), which a step's `retryOn` can list. */
  readonly reason?: string;
}

/**
 * An error a tool throws to say how its failure should be handled. Any error
 * with a boolean `retryable` property is read the same way.
 *
 * @example
 * ```ts
 * throw new ToolError(`unknown vendor id ${id}; known vendor ids: ${ids.join(', ')}`, { retryable: true, reason: 'vendor_unknown' });
 * ```
 */
export class ToolError extends StepwiseError {
  override name = 'ToolError';
  readonly retryable: boolean | undefined;
  readonly reason: string | undefined;

  constructor(message: string, options: ToolErrorOptions = {}) {
    super('tool_failed', message, options.cause === undefined ? undefined : { cause: options.cause });
    this.retryable = options.retryable;
    this.reason = options.reason;
  }
}
