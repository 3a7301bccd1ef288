/**
 * A model server's reply is read up to `maxReplyBytes` (model options; default 8 MiB), never whole: a 200 body
 * larger than that (streamed without a length, or declaring one) fails the call as a retryable `model_error`
 * about the reply's size once the cap is passed, the rest left unread and the connection closed, charged as a
 * 200 whose body never arrived whole is (the request's local count and its `max_tokens`). Before, a 600 MB body
 * was read whole (1.4 GB RSS) before the call failed. The real SDK talks to a real node:http server that streams
 * the body as fast as the client reads it, and the real engine drives the step.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/engine/clock.js';
import { createEngine } from '../../src/engine/engine.js';
import { callForToolInput } from '../../src/model/call.js';
import { DEFAULT_MAX_REPLY_BYTES, resolveModel } from '../../src/model/client.js';
import { createMemoryStore } from '../../src/store/memory.js';
import { definition, recordNote } from '../guards/helpers.js';

const MiB = 1024 * 1024;
const CHUNK = Buffer.alloc(64 * 1024, 0x20); // spaces: JSON whitespace, so the body stays JSON as far as it goes

interface Streaming {
  readonly url: string;
  /** What the server wrote of each reply before its connection closed (or it wrote the whole body). */
  readonly written: Promise<number>[];
}

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

/**
 * A Messages API server whose 200 reply to /v1/messages is a JSON object's start, then `total` bytes of spaces in
 * 64 KiB chunks, written as fast as the client reads (it waits for `drain`), then the end: `declare` sends its
 * length in `content-length`, else the body is chunked.
 */
async function streaming(total: number, declare = false): Promise<Streaming> {
  const written: Promise<number>[] = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => written.push(stream(res, total, declare)));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, written };
}

function stream(res: ServerResponse, total: number, declare: boolean): Promise<number> {
  const head = Buffer.from('{"id":"msg_1","type":"message","role":"assistant","content":[],"stop_reason":"end_turn",');
  const tail = Buffer.from('"usage":{"input_tokens":1,"output_tokens":1}}');
  res.writeHead(200, { 'content-type': 'application/json', ...(declare ? { 'content-length': String(head.length + total + tail.length) } : {}) });
  return new Promise((resolve) => {
    let sent = 0;
    let closed = false;
    res.on('close', () => {
      closed = true;
      resolve(sent);
    });
    res.write(head);
    const pump = () => {
      while (!closed && sent < total) {
        const chunk = CHUNK.subarray(0, Math.min(CHUNK.length, total - sent));
        sent += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      if (!closed) res.end(tail);
    };
    pump();
  });
}

const request = {
  model: 'claude-sonnet-4-6',
  maxTokens: 300,
  prompt: 'Record a note about the case.',
  tool: { name: 'record_note', description: 'Record a note', input_schema: { type: 'object', properties: { note: { type: 'string' } }, required: ['note'] } },
  timeoutMs: 60_000,
};

describe('a model reply larger than maxReplyBytes', () => {
  it('a chunked 200 body past the cap fails the call once the cap is passed: the rest is not read, the reply charged as a cut one', async () => {
    const server = await streaming(256 * MiB);
    const result = await callForToolInput(resolveModel({ baseURL: server.url, apiKey: 'x', maxRetries: 0, maxReplyBytes: 1 * MiB }), request);
    expect(result).toMatchObject({ ok: false, kind: 'model_error', retryable: true });
    // A failure with no HTTP status names the server it came from (its origin).
    if (!result.ok) expect(result.message).toBe(`the model server sent a reply larger than 1048576 bytes (maxReplyBytes); the rest of it was not read (model server ${new URL(server.url).origin})`);
    expect(result.estimatedInput).toBeGreaterThan(0);
    expect(result.usage.totalTokens).toBe(result.estimatedInput + request.maxTokens);
    // The connection was closed with the server far from done: a few socket buffers past the cap, not 256 MiB.
    const written = await server.written[0]!;
    expect(written).toBeLessThan(64 * MiB);
  });

  it('a 200 whose content-length is past the cap fails before its body is read', async () => {
    const server = await streaming(600 * MiB, true);
    const result = await callForToolInput(resolveModel({ baseURL: server.url, apiKey: 'x', maxRetries: 0, maxReplyBytes: 1 * MiB }), request);
    expect(result).toMatchObject({ ok: false, kind: 'model_error', retryable: true });
    if (!result.ok) expect(result.message).toMatch(/^the model server sent a reply larger than 1048576 bytes \(maxReplyBytes\)/);
    expect(result.usage.totalTokens).toBe(result.estimatedInput + request.maxTokens);
    expect(await server.written[0]!).toBeLessThan(64 * MiB);
  });

  it('a reply within the cap is read as before', async () => {
    const server = await streaming(512 * 1024);
    const result = await callForToolInput(resolveModel({ baseURL: server.url, apiKey: 'x', maxRetries: 0, maxReplyBytes: 1 * MiB }), request);
    // Read whole: the reply ends its turn without calling the tool, and its own usage is charged.
    expect(result).toMatchObject({ ok: false, kind: 'invalid_data', usage: { inputTokens: 1, outputTokens: 1 } });
    expect(await server.written[0]!).toBe(512 * 1024);
  });

  it(`the default cap is ${DEFAULT_MAX_REPLY_BYTES / MiB} MiB`, async () => {
    expect(DEFAULT_MAX_REPLY_BYTES).toBe(8 * MiB);
    const server = await streaming(DEFAULT_MAX_REPLY_BYTES + MiB);
    const result = await callForToolInput(resolveModel({ baseURL: server.url, apiKey: 'x', maxRetries: 0 }), request);
    expect(result).toMatchObject({ ok: false, kind: 'model_error', retryable: true });
    if (!result.ok) expect(result.message).toMatch(/larger than 8388608 bytes/);
  });

  it('through the engine: the step fails model_error about the size (retried like any model_error), every reply charged', async () => {
    const server = await streaming(256 * MiB);
    const engine = createEngine({
      store: createMemoryStore(),
      clock: new ManualClock({ autoAdvance: true }),
      tools: [recordNote],
      model: { baseURL: server.url, apiKey: 'x', maxRetries: 0, maxReplyBytes: 1 * MiB },
    });
    const workflow = definition({ id: 'huge-reply', retry: { maxAttempts: 2 }, steps: { note: { claude: { tool: 'record_note', prompt: 'Record a note.', maxTokens: 300 } }, done: { final: true } } }, [recordNote]);
    const run = await engine.start(workflow);
    expect(run).toMatchObject({ status: 'failed', failure: { kind: 'retries_exhausted', step: 'note' } });
    expect(run.failure?.message).toMatch(/larger than 1048576 bytes \(maxReplyBytes\)/);
    expect(run.usage.totalTokens).toBeGreaterThan(2 * 300);
    expect(server.written).toHaveLength(2);
    for (const written of server.written) expect(await written).toBeLessThan(64 * MiB);
  });

  it.each([Number.NaN, 0, -1, 1.5, Number.POSITIVE_INFINITY])('maxReplyBytes %s is refused when the engine is made (usage), as is one given to resolveModel', (bad) => {
    expect(() => createEngine({ store: createMemoryStore(), model: { baseURL: 'http://127.0.0.1:9', maxReplyBytes: bad } })).toThrow(/maxReplyBytes must be a whole number of bytes above 0/);
    expect(() => resolveModel({ baseURL: 'http://127.0.0.1:9', maxReplyBytes: bad })).toThrow(/maxReplyBytes must be a whole number of bytes above 0/);
  });
});
