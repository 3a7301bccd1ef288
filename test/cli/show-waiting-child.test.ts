/**
 * `stepwise show` of a run that waits on a child run (its sub-workflow is at a
 * `wait`) says which: `waiting on child run <childId>`, with the events the
 * child accepts; `show --json` carries `waitingOn` ({ runId, step, events }
 * per waiting child). Through the built CLI on a SQLite file; once the event
 * is sent the parent finishes and waits on nothing.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SPAWN_BUDGET_MS } from '../budgets.js';
import { cli, lastJson, root } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'stepwise-show-child-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const store = `sqlite:${join(dir, 'runs.db')}`;
const definition = join(root, 'test', 'cli', 'fixtures', 'waits-on-child.yaml');

interface Row {
  step: string | null;
  event: string;
  detail: string;
}

/** The `waiting` rows of a run's timeline, from `show --json`. */
async function waitingRows(runId: string): Promise<Row[]> {
  const shown = lastJson<{ timeline: { rows: Row[] } }>((await cli(['show', runId, '--store', store, '--json'])).stdout);
  return shown.timeline.rows.filter((r) => r.event === 'waiting');
}

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

    // The parent's own waiting entry says what it waits on (it read "for " with nothing after it).
    expect(await waitingRows('wc-1')).toEqual([expect.objectContaining({ step: 'sub', detail: 'child run wc-1~sub.1 waits for an event' })]);
    expect(text).toMatch(/ sub +1 +1 +waiting +child run wc-1~sub\.1 waits for an event$/m);

    const sent = await cli(['send', 'wc-1', 'APPROVE', '--emulator', '--store', store, '--json']);
    expect(lastJson<{ status: string }>(sent.stdout).status).toBe('done');
    const after = lastJson<Shown>((await cli(['show', 'wc-1', '--store', store, '--json'])).stdout);
    expect(after.waitingOn).toEqual([]);
    expect(after.waitingFor).toBeNull();
    expect((await cli(['show', 'wc-1', '--store', store])).stdout).not.toContain('waiting on child run');
  });

  it("a map step whose items wait: its waiting entry in show says so (it read \"for \" with nothing after it)", async () => {
    const file = join(dir, 'map-wait.yaml');
    writeFileSync(
      file,
      ['id: map-wait', 'steps:', '  each:', '    map:', '      items: "{% $input.xs %}"', '      steps:', '        w: { wait: { on: { OK: fin } } }', '        fin: { final: true }', '    next: done', '  done: { final: true }', ''].join('\n'),
    );
    const ran = lastJson<Shown>((await cli(['run', file, '--input', '{"xs":[1,2]}', '--id', 'mw-1', '--emulator', '--store', store, '--json'])).stdout);
    expect(ran.status).toBe('waiting');
    expect(await waitingRows('mw-1')).toEqual([expect.objectContaining({ step: 'each', detail: 'its items wait for an event' })]);
    expect((await cli(['show', 'mw-1', '--store', store])).stdout).toMatch(/ each +1 +1 +waiting +its items wait for an event$/m);
  });
});
