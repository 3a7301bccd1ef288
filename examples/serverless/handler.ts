/**
 * A function-as-a-service handler in the serverless style: every invocation
 * opens the store, advances one run by one step with `engine.step(runId)`,
 * persists and returns. Nothing lives between invocations but the store, so a
 * queue (SQS, Cloud Tasks, a cron) re-invokes the handler while the run says
 * `running` — after `retryAt` when a backoff is pending.
 *
 * @example
 * ```ts
 * // AWS Lambda, triggered by an SQS message { runId } and re-enqueuing itself:
 * export const handler = async (event: { Records: { body: string }[] }) => {
 *   for (const record of event.Records) {
 *     const reply = await handle(JSON.parse(record.body), { store: process.env.STEPWISE_STORE! });
 *     if (reply.again) await queue.send({ runId: reply.runId }, { delaySeconds: Math.ceil(reply.delayMs / 1000) });
 *   }
 * };
 * ```
 */
import { createEngine, openStore, systemClock, type AnyTool, type Clock, type ModelOptions, type RunView } from '../../src/index.js';

export interface StepRequest {
  readonly runId: string;
}

export interface StepReply {
  readonly runId: string;
  readonly status: RunView['status'];
  /** Invoke again: the run is still `running`. */
  readonly again: boolean;
  /** How long to wait before the next invocation (a pending retry backoff), else 0. */
  readonly delayMs: number;
  readonly steps: number;
}

export interface HandlerConfig {
  /** A store spec every invocation can reach, e.g. `postgres://…` (or `sqlite:/mnt/efs/stepwise.db`). */
  readonly store: string;
  readonly model?: ModelOptions;
  /** Tools of code-defined workflows; YAML definitions bring their own tool modules. */
  readonly tools?: readonly AnyTool[];
  /**
   * The run's lease while a step runs. An invocation killed by its platform
   * keeps the run leased this long (the next one answers `run_busy` until then),
   * so keep it a little above the function timeout. Default 30 s.
   */
  readonly leaseMs?: number;
  /** The engine's clock (tests pass a `ManualClock`); default the system clock. */
  readonly clock?: Clock;
}

/** One invocation: one step of one run. */
export async function handle(request: StepRequest, config: HandlerConfig): Promise<StepReply> {
  const store = await openStore(config.store);
  const clock = config.clock ?? systemClock;
  try {
    const engine = createEngine({
      store,
      ...(config.model ? { model: config.model } : {}),
      ...(config.tools ? { tools: config.tools } : {}),
      ...(config.leaseMs !== undefined ? { leaseMs: config.leaseMs } : {}),
      clock,
    });
    const view = await engine.step(request.runId);
    const wakeAt = (await store.get(request.runId))?.wakeAt ?? null;
    return {
      runId: view.runId,
      status: view.status,
      again: view.status === 'running',
      delayMs: view.status === 'running' && wakeAt !== null ? Math.max(0, wakeAt - clock.now()) : 0,
      steps: view.steps.length,
    };
  } finally {
    await store.close();
  }
}
