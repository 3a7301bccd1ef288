/**
 * Counts what a PostgreSQL store sends over its connections: each
 * `client.query` is one statement and one round trip (a prepared statement's
 * parse, bind and execute go out together), named by its prepared name or
 * its first word; bytes are the sockets' own counts, so they include the
 * protocol's framing. The bench's worker processes give {@link ConnectionMeter.attach}
 * to the store as its `onConnect`.
 */
import type { Socket } from 'node:net';
import type pg from 'pg';

export interface ConnectionTotals {
  /** Statements sent, by name (`commit`, `claim`, … for the store's prepared ones; `begin`, `select`, … for the others). */
  readonly statements: Record<string, number>;
  readonly bytesSent: number;
  readonly bytesReceived: number;
  /** Bytes received by statement name: what came in on a connection up to each statement's end (statements on one connection end in order). */
  readonly bytesReceivedBy: Record<string, number>;
}

export interface ConnectionMeter {
  /** Meters a new connection (give it to the store as `onConnect`). */
  attach(client: pg.ClientBase): void;
  /** Starts counting from zero. */
  reset(): void;
  totals(): ConnectionTotals;
}

/** The name a statement is counted under. */
function statementName(config: unknown): string {
  if (typeof config === 'object' && config !== null) {
    const { name, text } = config as { name?: unknown; text?: unknown };
    if (typeof name === 'string') return name.replace(/^stepwise_/, '');
    return statementName(text);
  }
  return typeof config === 'string' ? (/^\s*(\w+)/.exec(config)?.[1] ?? '?').toLowerCase() : '?';
}

/**
 * A meter for every connection of one store.
 * @example
 * const meter = createConnectionMeter();
 * const store = createPostgresStore({ url, onConnect: meter.attach });
 * // … work …
 * meter.totals(); // { statements: { commit: 120, claim: 20 }, bytesSent: 310000, bytesReceived: 52000 }
 */
export function createConnectionMeter(): ConnectionMeter {
  const sockets: Socket[] = [];
  let statements: Record<string, number> = {};
  let receivedBy: Record<string, number> = {};
  let base = { sent: 0, received: 0 };
  const bytes = () => sockets.reduce((a, s) => ({ sent: a.sent + s.bytesWritten, received: a.received + s.bytesRead }), { sent: 0, received: 0 });
  return {
    attach(client) {
      const stream = (client as unknown as { connection?: { stream?: unknown } }).connection?.stream;
      if (stream && typeof (stream as Socket).bytesRead === 'number') sockets.push(stream as Socket);
      const socket = stream as Socket | undefined;
      let read = socket?.bytesRead ?? 0;
      const ended = (name: string) => {
        const now = socket?.bytesRead ?? 0;
        receivedBy[name] = (receivedBy[name] ?? 0) + now - read;
        read = now;
      };
      const query = client.query.bind(client) as (...args: unknown[]) => unknown;
      (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
        const name = statementName(args[0]);
        statements[name] = (statements[name] ?? 0) + 1;
        const last = args.length - 1;
        const callback = args[last];
        if (typeof callback === 'function') {
          args[last] = (...results: unknown[]) => {
            ended(name);
            return (callback as (...r: unknown[]) => unknown)(...results);
          };
          return query(...args);
        }
        const result = query(...args);
        if (result instanceof Promise) void result.then(() => ended(name), () => ended(name));
        return result;
      };
    },
    reset() {
      statements = {};
      receivedBy = {};
      base = bytes();
    },
    totals() {
      const now = bytes();
      return { statements: { ...statements }, bytesSent: now.sent - base.sent, bytesReceived: now.received - base.received, bytesReceivedBy: { ...receivedBy } };
    },
  };
}
