import { describe, expect, it } from 'vitest';
import { createProgress, isLiveTerminal } from '../../src/cli/progress.js';

function fakeStream(isTTY: boolean) {
  const chunks: string[] = [];
  const stream = { isTTY, columns: 60, write: (chunk: string) => chunks.push(chunk) } as unknown as NodeJS.WriteStream;
  return { stream, text: () => chunks.join('') };
}

describe('progress', () => {
  it('shows a live status on a terminal and clears it before permanent lines', () => {
    const { stream, text } = fakeStream(true);
    const progress = createProgress(stream, true);
    progress.status('extract · attempt 1');
    progress.line('✓ extract done');
    progress.status('validate · attempt 1');
    progress.done();
    const out = text();
    expect(out).toContain('extract · attempt 1');
    expect(out).toContain('\r\u001b[2K✓ extract done\n');
    expect(out.endsWith('\r\u001b[2K')).toBe(true);
  });

  it('prints plain lines only when not on a terminal', () => {
    const { stream, text } = fakeStream(false);
    const progress = createProgress(stream, false);
    progress.status('extract · attempt 1');
    progress.line('✓ extract done');
    progress.done();
    expect(text()).toBe('✓ extract done\n');
  });

  it('treats pipes, TERM=dumb and CI as not live', () => {
    expect(isLiveTerminal(fakeStream(false).stream)).toBe(false);
    const saved = process.env['TERM'];
    process.env['TERM'] = 'dumb';
    try {
      expect(isLiveTerminal(fakeStream(true).stream)).toBe(false);
    } finally {
      if (saved === undefined) delete process.env['TERM'];
      else process.env['TERM'] = saved;
    }
  });
});
