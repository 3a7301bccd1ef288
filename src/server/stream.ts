/**
 * `GET /api/runs/:id/stream`: Server-Sent Events of a run's commits. The first
 * event is the run as it is; then one `run` event (the run object of
 * `run --json`) per committed transition this process makes (engine.subscribe)
 * and, for runs another process drives (`stepwise worker`), per change seen
 * by polling the store. The stream ends when the run can change no more
 * (done, cancelled, or failed for good), or when the client goes away, which
 * only unsubscribes.
 */
import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { Engine } from '../engine/engine.js';
import type { RunView } from '../engine/view.js';
import { runView } from '../engine/waiting-view.js';
import { runJson } from '../query/run.js';

export interface StreamOptions {
  /** How often the store is read for changes made by other processes (ms). Default 1000. */
  readonly pollMs: number;
  /** Keep-alive comment interval (ms). Default 15000. */
  readonly heartbeatMs: number;
  /** Aborted when the server closes: the stream ends. */
  readonly closing: AbortSignal;
}

const ended = (view: RunView) => view.status === 'done' || view.status === 'cancelled' || (view.status === 'failed' && !view.resumable);

export function streamRun(c: Context, engine: Engine, first: RunView, options: StreamOptions): Response {
  return streamSSE(c, async (stream) => {
    const runId = first.runId;
    let last = '';
    let seq = 0;
    let finish: () => void = () => {};
    const done = new Promise<void>((resolve) => (finish = resolve));
    // Writes go one after another; a write to a client that left fails and ends the stream.
    let queue = Promise.resolve();
    const push = (view: RunView) => {
      const data = JSON.stringify(runJson(view));
      if (data === last) return;
      last = data;
      queue = queue
        .then(() => (stream.aborted || stream.closed ? undefined : stream.writeSSE({ event: 'run', id: String(++seq), data })))
        .then(() => {
          if (ended(view)) finish();
        })
        .catch(() => finish());
    };
    const unsubscribe = engine.subscribe((view) => {
      if (view.runId === runId) push(view);
    });
    const poll = setInterval(() => {
      engine.store
        .get(runId)
        .then(async (record) => (record ? push(await runView(engine.store, record)) : finish()))
        .catch(() => undefined);
    }, options.pollMs);
    const heartbeat = setInterval(() => {
      queue = queue.then(() => (stream.aborted || stream.closed ? undefined : stream.write(': keep-alive\n\n').then(() => undefined))).catch(() => finish());
    }, options.heartbeatMs);
    stream.onAbort(finish);
    if (options.closing.aborted) finish();
    options.closing.addEventListener('abort', finish, { once: true });
    try {
      push(first);
      await done;
      await queue;
    } finally {
      unsubscribe();
      options.closing.removeEventListener('abort', finish);
      clearInterval(poll);
      clearInterval(heartbeat);
    }
  }, async () => {
    // An error inside the stream ends that stream only.
  });
}
