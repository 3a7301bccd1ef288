/**
 * Binding the API to a port with `@hono/node-server`. A server without auth
 * binds only to loopback. Closing ends open event streams and waits for
 * the requests in flight.
 */
import { serve } from '@hono/node-server';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StepwiseError } from '../errors.js';
import { isLoopback } from './loopback.js';

export interface ListenOptions {
  /** Default 0: a free port. */
  readonly port?: number;
  /** Default 127.0.0.1. */
  readonly host?: string;
}

export interface ListeningServer {
  /** `http://host:port`. */
  readonly url: string;
  readonly port: number;
  readonly host: string;
  close(): Promise<void>;
}

export function listen(
  fetch: (request: Request) => Response | Promise<Response>,
  options: ListenOptions & { readonly authenticated: boolean; readonly onClose?: () => void },
): Promise<ListeningServer> {
  const host = options.host ?? '127.0.0.1';
  if (!options.authenticated && !isLoopback(host)) {
    return Promise.reject(
      new StepwiseError('usage', `refusing to listen on ${host} without a token: give --token (or STEPWISE_TOKEN), or listen on 127.0.0.1`),
    );
  }
  return new Promise((resolve, reject) => {
    const server = serve({ fetch, port: options.port ?? 0, hostname: host }) as Server;
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(new StepwiseError('usage', error.code === 'EADDRINUSE' ? `port ${options.port} on ${host} is in use` : `cannot listen on ${host}: ${error.message}`, { cause: error })),
    );
    server.once('listening', () => {
      const { port } = server.address() as AddressInfo;
      const shown = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
      resolve({
        url: `http://${shown}:${port}`,
        port,
        host,
        // New connections are refused, event streams end, requests in flight (a run being driven) finish first.
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            options.onClose?.();
            server.closeIdleConnections();
          }),
      });
    });
  });
}
