/**
 * A tool's error message is kept (the run's failure, its journal, the store)
 * with credentials hidden, as it is when fed back to the model: a tool that
 * fails with `password=…`, a bearer token or a URL's password in its message
 * leaves none of them in what Stepwise stores or shows. Found by outside testing.
 * So does a tool whose value or error throws when read (a getter, `toJSON`, a
 * `message` getter, a thrown Proxy, a message that is not a string): the
 * message of what was thrown while reading is hidden the same way, and a tool's
 * error stays a `tool_error` naming the tool.
 */
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { loadDefinitionFromObject } from '../../src/definition/load.js';
import { ManualClock } from '../../src/engine/clock.js';
import { createEngine } from '../../src/engine/engine.js';
import { createMemoryStore } from '../../src/store/memory.js';
import { defineTool, type AnyTool } from '../../src/tools/define.js';

const SECRETS = ['hunter2-Sup3r', 'abcdefghijklmnopqrstuv', 'svcpass99'];

describe('tool errors', () => {
  it('are stored and shown with credentials hidden', async () => {
    const login = defineTool({
      name: 'login',
      description: 'Logs in',
      input: z.object({}),
      run: () => {
        throw Object.assign(new Error(`login failed: password=${SECRETS[0]} Authorization: Bearer ${SECRETS[1]} at https://svc:${SECRETS[2]}@erp.example/api`), { retryable: false });
      },
    });
    const store = createMemoryStore();
    const engine = createEngine({ store, tools: [login], clock: new ManualClock({ autoAdvance: true }), model: { baseURL: 'http://127.0.0.1:9', apiKey: 'x' } });
    const def = loadDefinitionFromObject({ id: 'logs-in', steps: { go: { tool: 'login' }, done: { final: true } } }, [login], 'logs-in');
    const run = await engine.start(def);
    expect(run.status).toBe('failed');
    expect(run.failure?.message).toContain('login failed: password=***');
    const kept = JSON.stringify([run, await engine.journal(run.runId), await store.get(run.runId)]);
    for (const secret of SECRETS) expect(kept).not.toContain(secret);
  });
});

/** Credentials a hostile tool puts in what is thrown while its value or error is read. */
const LEAKED = ['sk-ant-api03-ABCDEFGHIJKLMNOPQRSTUV', 'ghp_abcdefghijklmnopqrstuvwxyz0123', 'hunter2'];
const secretText = `GET https://erp/v/V1 failed: Authorization: Bearer ${LEAKED[0]} token=${LEAKED[1]} password=${LEAKED[2]}`;

function oneToolRun(run: () => unknown) {
  const tool = defineTool({ name: 'hostile', description: 'Misbehaves', input: z.object({}), run }) as unknown as AnyTool;
  const store = createMemoryStore();
  const engine = createEngine({ store, tools: [tool], clock: new ManualClock({ autoAdvance: true }), model: { baseURL: 'http://127.0.0.1:9', apiKey: 'x' } });
  const def = loadDefinitionFromObject({ id: 'hostile', retry: { maxAttempts: 1 }, steps: { go: { tool: 'hostile' }, done: { final: true } } }, [tool], 'hostile');
  return {
    async failure() {
      const run = await engine.start(def);
      expect(run.status).toBe('failed');
      const kept = JSON.stringify([run, await engine.journal(run.runId), await store.get(run.runId)]);
      for (const secret of LEAKED) expect(kept).not.toContain(secret);
      return run.failure!;
    },
  };
}

const throwingMessage = () => {
  const error = new Error('x');
  Object.defineProperty(error, 'message', {
    get() {
      throw new Error(secretText);
    },
  });
  return error;
};

describe('a tool whose value or error throws when read (found by outside testing)', () => {
  it('a result with a throwing getter fails invalid_output with the credentials hidden', async () => {
    const failure = await oneToolRun(() => ({
      id: 'V1',
      get details(): never {
        throw new Error(secretText);
      },
    })).failure();
    expect(failure.kind).toBe('invalid_output');
    expect(failure.message).toContain('it could not be read: GET https://erp/v/V1 failed: Authorization: ***');
    expect(failure.message).toContain('password=***');
  });

  it('a result whose toJSON throws fails invalid_output with the credentials hidden', async () => {
    const failure = await oneToolRun(() => ({
      toJSON(): never {
        throw new Error(secretText);
      },
    })).failure();
    expect(failure.kind).toBe('invalid_output');
    expect(failure.message).toContain('password=***');
  });

  it('an Error whose message getter throws is a tool_error naming the tool, credentials hidden', async () => {
    const failure = await oneToolRun(() => {
      throw throwingMessage();
    }).failure();
    expect(failure.kind).toBe('tool_error');
    expect(failure.message).toMatch(/^hostile: /);
    expect(failure.message).toContain('password=***');
  });

  it('a thrown Proxy whose every trap throws is a tool_error naming the tool, credentials hidden', async () => {
    const trap = () => {
      throw new Error(secretText);
    };
    const failure = await oneToolRun(() => {
      throw new Proxy({}, { get: trap, getPrototypeOf: trap, ownKeys: trap, getOwnPropertyDescriptor: trap, has: trap });
    }).failure();
    expect(failure.kind).toBe('tool_error');
    expect(failure.message).toMatch(/^hostile: /);
  });

  it('an Error whose message is not a string is a tool_error naming the tool, credentials hidden', async () => {
    const failure = await oneToolRun(() => {
      throw Object.assign(new Error('x'), { message: { detail: secretText } });
    }).failure();
    expect(failure.kind).toBe('tool_error');
    expect(failure.message).toMatch(/^hostile: /);
    expect(failure.message).toContain('password=***');
  });
});
