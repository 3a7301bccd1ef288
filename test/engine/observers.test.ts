/**
 * Observers the application gives the engine only watch: a `subscribe` listener that throws (or an async one that
 * rejects) and an `inspect` observer that throws neither fail the run nor leave it `running`, and the listeners
 * after a throwing one still hear every commit. Real engine on SQLite, the emulator for the model.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { harness, inputOf, load, type Harness } from './helpers.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('observers that throw', () => {
  it('a throwing or rejecting subscribe listener stops nothing; the listeners after it hear every commit', async () => {
    h = await harness();
    const engine = h.engine();
    let heard = 0;
    engine.subscribe(() => {
      throw new Error('listener bug');
    });
    engine.subscribe(async () => {
      throw new Error('async listener bug');
    });
    engine.subscribe(() => {
      heard++;
    });
    const run = await engine.start(await load('support-triage.yaml'), { input: inputOf('support-triage.yaml') });
    expect(run.status).not.toBe('running');
    expect(run.failure).toBeNull();
    expect(heard).toBeGreaterThan(1);
  });

  it('a throwing inspect observer stops nothing', async () => {
    h = await harness();
    const engine = h.engine({
      inspect: () => {
        throw new Error('inspector bug');
      },
    });
    const run = await engine.start(await load('support-triage.yaml'), { input: inputOf('support-triage.yaml') });
    expect(run.status).not.toBe('running');
    expect(run.failure).toBeNull();
  });
});
