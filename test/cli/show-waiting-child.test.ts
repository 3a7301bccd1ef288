/**
 * `stepwise show` of a run that waits on a child run (its sub-workflow is at a
 * `wait`) says which: `waiting on child run <childId>`, with the events the
 * child accepts; `show --json` carries `waitingOn` ({ runId, step, events }
 * per waiting child). Through the built CLI on a SQLite file; once the event
 * is sent the parent finishes and waits on nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SPAWN_BUDGET_MS } from '../budgets.js';
import { cli, lastJson, root } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'stepwise-show-child-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const store = `sqlite:${join(dir, 'runs.db')}`;
const definition = join(root, 'test', 'cli', 'fixtures', 'waits-on-child.yaml');

interface Shown {
  status: string;
  waitingFor: { step: string; events: string[] } | null;
  waitingOn: Array<{ runId: string; step: string; events: string[] }>;
}

describe('show of a run waiting on its child run', { timeout: SPAWN_BUDGET_MS }, () => {
  it('names the child and what it accepts, in text and in --json', async () => {
    const ran = lastJson<Shown>((await cli(['run', definition, '--id', 'wc-1', '--emulator', '--store', store, '--json'])).stdout);
    expect(ran.status).toBe('waiting');
    expect(ran.waitingFor).toMatchObject({ step: 'sub', events: ['APPROVE'] });

    const json = lastJson<Shown>((await cli(['show', 'wc-1', '--store', store, '--json'])).stdout);
    expect(json.waitingOn).toEqual([{ runId: 'wc-1~sub.1', step: 'sub', events: ['APPROVE'] }]);
    // The run object is the same whichever command prints it: show says what the run accepts, as run did.
    expect(json.waitingFor).toEqual(ran.waitingFor);
    const text = (await cli(['show', 'wc-1', '--store', store])).stdout;
    expect(text).toMatch(/^waiting on child run wc-1~sub\.1 \(step sub\) for APPROVE/m);

    const sent = await cli(['send', 'wc-1', 'APPROVE', '--emulator', '--store', store, '--json']);
    expect(lastJson<{ status: string }>(sent.stdout).status).toBe('done');
    const after = lastJson<Shown>((await cli(['show', 'wc-1', '--store', store, '--json'])).stdout);
    expect(after.waitingOn).toEqual([]);
    expect(after.waitingFor).toBeNull();
    expect((await cli(['show', 'wc-1', '--store', store])).stdout).not.toContain('waiting on child run');
  });
});
