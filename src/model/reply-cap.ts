/**
 * The most of a model server's reply that is read: the SDK reads a reply's body whole before parsing it, so a
 * server that sends hundreds of megabytes (a 600 MB 200 took 1.4 GB of memory before the call failed) is cut off
 * at `maxReplyBytes` instead. The body of every response the client receives (a reply, an error, a token count)
 * passes through {@link cappingFetch}: past the cap (or declaring a `content-length` past it) its reading fails with
 * {@link ReplyTooLarge} and the rest is not read (the connection is dropped). A success status came first, so the
 * call is charged as one whose body never arrived whole (./answered.ts).
 */
import { StepwiseError } from '../errors.js';

/** The default cap: 8 MiB, many times a reply of the largest `max_tokens` (a 128k-token tool input is about 1 MB). */
export const DEFAULT_MAX_REPLY_BYTES = 8 * 1024 * 1024;

/** A reply's body was larger than the cap: the call fails as a retryable `model_error` with this message. */
export class ReplyTooLarge extends Error {
  override readonly name = 'ReplyTooLarge';
  constructor(readonly maxBytes: number) {
    super(`the model server sent a reply larger than ${maxBytes} bytes (maxReplyBytes); the rest of it was not read`);
  }
}

/** Throws `usage` for a `maxReplyBytes` that is not a whole number above 0 (NaN would remove the cap, Infinity too). */
export function checkMaxReplyBytes(value: number | undefined, where: string): void {
  if (value !== undefined && !(Number.isSafeInteger(value) && value > 0)) {
    throw new StepwiseError('usage', `${where}: maxReplyBytes must be a whole number of bytes above 0, not ${String(value)}`);
  }
}

/** `body` as read, erroring with {@link ReplyTooLarge} (and dropping the rest) once more than `maxBytes` came. */
function capped(body: ReadableStream<Uint8Array>, maxBytes: number): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let read = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await reader.read();
      if (done) return controller.close();
      read += value.byteLength;
      if (read > maxBytes) {
        controller.error(new ReplyTooLarge(maxBytes));
        await reader.cancel().catch(() => undefined);
        return;
      }
      controller.enqueue(value);
    },
    cancel: (reason) => reader.cancel(reason),
  });
}

/** A body that fails at once: its `content-length` is past the cap (the real one is dropped unread). */
function refused(body: ReadableStream<Uint8Array>, maxBytes: number): ReadableStream<Uint8Array> {
  void body.cancel().catch(() => undefined);
  return new ReadableStream<Uint8Array>({ start: (controller) => controller.error(new ReplyTooLarge(maxBytes)) });
}

/**
 * The fetch the SDK client is given: `base`, with every response's body read at most `maxBytes`.
 * @example
 * new Anthropic({ fetch: cappingFetch(globalThis.fetch, DEFAULT_MAX_REPLY_BYTES) });
 */
export function cappingFetch(base: typeof fetch, maxBytes: number): typeof fetch {
  return async (input, init) => {
    const response = await base(input, init);
    if (response.body === null) return response;
    const declared = Number(response.headers.get('content-length') ?? Number.NaN);
    const body = declared > maxBytes ? refused(response.body, maxBytes) : capped(response.body, maxBytes);
    const bounded = new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
    // The SDK logs a response's url; a Response made here has none of its own.
    Object.defineProperty(bounded, 'url', { value: response.url });
    return bounded;
  };
}
