/**
 * Wakes idle workers when a run becomes claimable, on PostgreSQL: statements
 * that leave a run `running` and unleased (create, release, an unleased
 * commit) `pg_notify` the schema's channel with the run's id when they commit, and one
 * dedicated connection per store LISTENs on it while anyone subscribes. It is a
 * hint on top of polling: a lost connection is re-opened after a pause, and
 * until then workers find their runs at their next poll. The connection is
 * closed when the last subscriber leaves or the store closes.
 */
import { createHash } from 'node:crypto';
import pg from 'pg';

/** The channel of a schema: a short, valid identifier however long the schema name is. */
export function runnableChannel(schema: string): string {
  return `stepwise_runnable_${createHash('sha256').update(schema).digest('hex').slice(0, 16)}`;
}

/**
 * A SQL expression that notifies `channel` (a parameter, e.g. `$12`) when the row
 * `alias` is `running` and unleased (the run's id is the payload); evaluates to true or null.
 */
export function notifyWhenRunnable(alias: string, channel: string): string {
  return `CASE WHEN ${alias}.status = 'running' AND ${alias}.lease_owner IS NULL THEN (SELECT true FROM pg_notify(${channel}, ${alias}.id)) END`;
}

export interface RunnableListener {
  subscribe(listener: () => void): () => void;
  close(): Promise<void>;
}

/**
 * Listens on `channel` over its own connection while there are subscribers.
 *
 * @example
 * const runnable = createRunnableListener(url, runnableChannel('stepwise'));
 * const stop = runnable.subscribe(() => wakeUp());
 */
export function createRunnableListener(url: string, channel: string, retryMs = 1000): RunnableListener {
  const listeners = new Set<() => void>();
  let client: pg.Client | null = null;
  let retry: NodeJS.Timeout | null = null;
  let closed = false;
  const notifyAll = () => {
    for (const listener of [...listeners]) listener();
  };

  function drop(dead: pg.Client): void {
    if (client === dead) client = null;
    dead.end().catch(() => {});
    if (closed || listeners.size === 0 || retry) return;
    retry = setTimeout(() => {
      retry = null;
      open();
    }, retryMs);
    retry.unref();
  }

  function open(): void {
    if (client || closed || listeners.size === 0) return;
    const next = new pg.Client({ connectionString: url });
    client = next;
    next.on('error', () => drop(next));
    next.on('end', () => drop(next));
    next.on('notification', (message) => {
      if (message.channel === channel) notifyAll();
    });
    next
      .connect()
      .then(() => next.query(`LISTEN ${channel}`))
      // A run may have become runnable while the connection opened: everyone looks once.
      .then(() => (client === next ? notifyAll() : undefined))
      .catch(() => drop(next));
  }

  function shut(): Promise<void> {
    if (retry) clearTimeout(retry);
    retry = null;
    const current = client;
    client = null;
    if (!current) return Promise.resolve();
    current.removeAllListeners('end');
    current.removeAllListeners('notification');
    return current.end().catch(() => {});
  }

  return {
    subscribe(listener) {
      listeners.add(listener);
      open();
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0) void shut();
      };
    },
    close() {
      closed = true;
      listeners.clear();
      return shut();
    },
  };
}
