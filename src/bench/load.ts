/**
 * Load from inside the process for the server benchmark: a fixed number of
 * requests spread over concurrent clients (each one request at a time), and
 * a reader of Server-Sent Events from a fetch body.
 */
import { performance } from 'node:perf_hooks';

export interface Rate {
  readonly requests: number;
  readonly seconds: number;
  readonly requestsPerSecond: number;
}

/**
 * Calls `request` `total` times from `clients` concurrent clients and
 * returns the rate. `request` throws when an answer is not what it expects.
 */
export async function measureRate(clients: number, total: number, request: (index: number) => Promise<void>): Promise<Rate> {
  let next = 0;
  const client = async (): Promise<void> => {
    while (next < total) await request(next++);
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: Math.min(clients, total) }, client));
  const seconds = (performance.now() - started) / 1000;
  return { requests: total, seconds: round(seconds, 3), requestsPerSecond: Math.round(total / seconds) };
}

/** Nearest-rank percentile of `values` (unsorted), in the values' unit. */
export function percentileOf(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1] as number;
}

export const round = (value: number, digits: number): number => Number(value.toFixed(digits));

/** Reads one SSE stream: `next()` resolves with the data of the next event of type `event`. */
export function sseReader(body: ReadableStream<Uint8Array>, event: string): { next(): Promise<string>; close(): Promise<void> } {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  return {
    async next() {
      for (;;) {
        const end = buffer.indexOf('\n\n');
        if (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const lines = block.split('\n');
          if (lines.includes(`event: ${event}`)) {
            return lines.filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trimStart()).join('\n');
          }
          continue;
        }
        const { value, done } = await reader.read();
        if (done) throw new Error(`the event stream ended before a "${event}" event`);
        buffer += decoder.decode(value, { stream: true });
      }
    },
    close: () => reader.cancel(),
  };
}
