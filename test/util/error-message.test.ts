/**
 * `messageOf` describes anything a tool or hook may throw without throwing itself: an Error whose `message`
 * getter throws, a message that is not a string, a Proxy whose every trap throws, a revoked Proxy. Found by
 * outside testing (a throwing `message` getter escaped a tool's error handling as an engine error).
 */
import { describe, expect, it } from 'vitest';
import { causesOf, messageOf } from '../../src/util/error-message.js';

describe('messageOf', () => {
  it('reads Errors, strings and plain values as before', () => {
    expect(messageOf(new Error('boom'))).toBe('boom');
    expect(messageOf('plain')).toBe('plain');
    expect(messageOf({ toString: 5, weird: true })).toBe('{"toString":5,"weird":true}');
  });

  it('never throws, whatever was thrown', () => {
    const getterThrows = new Error('x');
    Object.defineProperty(getterThrows, 'message', {
      get() {
        throw new Error('inner');
      },
    });
    const nonString = Object.assign(new Error('x'), { message: { detail: 'object message' } });
    const hostile = new Proxy(
      {},
      {
        get() {
          throw new Error('get trap');
        },
        getPrototypeOf() {
          throw new Error('prototype trap');
        },
        ownKeys() {
          throw new Error('keys trap');
        },
        getOwnPropertyDescriptor() {
          throw new Error('descriptor trap');
        },
      },
    );
    const revocable = Proxy.revocable({}, {});
    revocable.revoke();
    const bare = Object.create(null) as object;
    for (const value of [getterThrows, nonString, hostile, revocable.proxy, bare, Symbol('s'), undefined, null, 12n]) {
      expect(typeof messageOf(value)).toBe('string');
    }
    expect(messageOf(nonString)).toContain('object message');
  });
});

describe('causesOf', () => {
  it('reads the cause chain with codes, bounded, and never throws', () => {
    const socket = Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' });
    expect(causesOf(new TypeError('terminated', { cause: socket }))).toBe('other side closed (UND_ERR_SOCKET)');
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });
    expect(causesOf(new Error('Connection error.', { cause: new TypeError('fetch failed', { cause: refused }) }))).toBe('fetch failed: connect ECONNREFUSED 127.0.0.1:9');
    expect(causesOf(new Error('alone'))).toBe('');
    const loop: Error & { cause?: unknown } = new Error('loop');
    loop.cause = loop;
    expect(causesOf(loop)).toBe('loop: loop: loop: loop');
    const hostile = new Error('outer');
    Object.defineProperty(hostile, 'cause', { get() { throw new Error('no'); } });
    expect(causesOf(hostile)).toBe('');
  });
});
