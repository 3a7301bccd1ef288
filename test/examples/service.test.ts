/** The README's service example (examples/service/embed.ts), run as written against a real SQLite file. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { approveOverHttp } from '../../examples/service/embed.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('examples/service', () => {
  it('starts the invoice workflow over HTTP, sees it wait, approves it and gets the payment', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stepwise-service-'));
    dirs.push(dir);
    const { started, approved } = await approveOverHttp(`sqlite:${join(dir, 'runs.db')}`, 'example-token');
    expect(started.status).toBe('waiting');
    expect(approved.status).toBe('done');
    expect(approved.output).toMatchObject({ decision: 'approved', payment: { approvedBy: 'cfo@example.com', amount: 12500 } });
  });
});
