/** How a failure's message is kept: credentials hidden before the cap cuts it, so one across the cut is hidden whole. */
import { describe, expect, it } from 'vitest';
import { keptMessage } from '../../src/engine/outcomes.js';

describe('keptMessage', () => {
  it('hides credentials and keeps a short message whole', () => {
    expect(keptMessage('fetch: GET /v failed: Authorization: Bearer abcdefgh12345678 password=hunter2')).toBe('fetch: GET /v failed: Authorization: *** password=***');
  });

  it('hides a credential the cap would cut in two, and says how much was cut', () => {
    const key = 'sk-ant-api03-ABCDEFGHIJKLMNOPQRSTUV';
    const message = `${'x '.repeat(8181)}${key} ${'y'.repeat(100_000)}`;
    const kept = keptMessage(message);
    expect(kept).not.toContain('sk-ant-api03-ABCDEFGH');
    expect(kept).toMatch(/… \(\d+ more characters\)$/);
    expect(kept.length).toBeLessThan(16 * 1024 + 64);
  });
});
