/**
 * What a new user meets when something goes wrong, end to end through the
 * built CLI: a user error is one `stepwise: …` line (no stack) with its
 * location and exit code 1; the hints printed after a run are commands that
 * work as printed (same store, `--budget` when the budget ran out, none that
 * cannot work); one store setting (`STEPWISE_STORE`); "not found" names the
 * store; run-id prefixes are accepted where unambiguous.
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SPAWN_BUDGET_MS } from '../budgets.js';
import { baseEnv, cli, collect, example, lastJson, main, root, tempDir, type CliResult } from './helpers.js';

/** A user error: exit 1, and stderr is the one line `stepwise: <message>`. */
function expectOneLine(result: CliResult, message: string | RegExp): void {
  expect(result.code, result.stderr).toBe(1);
  expect(result.stderr).not.toMatch(/\n\s+at /);
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^stepwise: /);
  if (typeof message === 'string') expect(lines[0]).toContain(message);
  else expect(lines[0]).toMatch(message);
}

const invoice = example('invoice-approval.yaml');
const storeIn = (dir: string) => `sqlite:${join(dir, 's.db')}`;
/** The line of `stdout` that starts with `prefix`, without it. */
const lineAfter = (stdout: string, prefix: string) => stdout.split('\n').find((l) => l.startsWith(prefix))?.slice(prefix.length);
/** Runs a printed hint (`stepwise …`) as the CLI, with `<placeholders>` filled in. */
const runHint = (hint: string, fill: Record<string, string> = {}, extra: string[] = []) => {
  const args = hint.replace(/^stepwise /, '').split(' ').map((word) => fill[word] ?? word);
  return cli([...args, ...extra]);
};

describe.concurrent('user errors are one line with their location, exit 1', { timeout: SPAWN_BUDGET_MS }, () => {
  it('a SQLite path under a file, or in a directory that does not exist, is refused and nothing is created', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'file'), 'x');
    const [underFile, missing] = await Promise.all([
      cli(['list', '--store', `sqlite:${join(dir, 'file', 'x.db')}`]),
      cli(['list', '--store', `sqlite:${join(dir, 'no', 'such', 'x.db')}`]),
    ]);
    expectOneLine(underFile, `Cannot open the store sqlite:${join(dir, 'file', 'x.db')}: ${join(dir, 'file')} is not a directory.`);
    expectOneLine(missing, `the directory ${join(dir, 'no', 'such')} does not exist`);
    expect(existsSync(join(dir, 'no'))).toBe(false);
  });

  it('the default .stepwise/ directory is still created, and a file in its place is named', async () => {
    const fresh = tempDir();
    const made = await collect(spawn(process.execPath, [main, 'list'], { cwd: fresh, env: baseEnv(), stdio: ['ignore', 'pipe', 'pipe'] }));
    expect(made.code, made.stderr).toBe(0);
    expect(existsSync(join(fresh, '.stepwise', 'stepwise.db'))).toBe(true);

    const blocked = tempDir();
    writeFileSync(join(blocked, '.stepwise'), 'not a directory');
    const refused = await collect(spawn(process.execPath, [main, 'list'], { cwd: blocked, env: baseEnv(), stdio: ['ignore', 'pipe', 'pipe'] }));
    expectOneLine(refused, `${join(blocked, '.stepwise')} is not a directory`);
  });

  it('a directory the user cannot write to is named, with EACCES', async () => {
    // Root may write anywhere: as root, run the CLI as nobody, from its sources (dist/ is private to root),
    // in a directory nobody can reach but not write.
    const asRoot = process.getuid?.() === 0;
    const dir = tempDir();
    chmodSync(dir, 0o755);
    const readOnly = join(dir, 'ro');
    mkdirSync(readOnly, { mode: 0o555 });
    chmodSync(readOnly, 0o555);
    const entry = asRoot ? ['--import', 'tsx', join(root, 'src', 'cli', 'main.ts')] : [main];
    const child = spawn(process.execPath, [...entry, 'list', '--store', `sqlite:${join(readOnly, 'x.db')}`], {
      cwd: root,
      env: baseEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(asRoot ? { uid: 65534, gid: 65534 } : {}),
    });
    expectOneLine(await collect(child), `the directory ${readOnly} is not writable (EACCES)`);
  });

  it('inspect --port on a port in use says so instead of crashing', async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, resolve));
    const { port } = busy.address() as AddressInfo;
    try {
      const result = await cli(['inspect', ...invoice, '--port', String(port), '--exit', '--store', 'memory', '--emulator']);
      expectOneLine(result, `The inspector cannot listen on port ${port}: it is in use (EADDRINUSE); choose another port with --port.`);
    } finally {
      busy.close();
    }
  });

  it('a TypeScript syntax error in a tools module or a definition module keeps its file, line and (1-based) column, named once', async () => {
    const dir = tempDir();
    const tools = join(dir, 'tools.ts');
    writeFileSync(tools, 'export const x = (a: number => a;\n');
    const definition = join(dir, 'wf.yaml');
    writeFileSync(definition, ['id: t', 'tools: ./tools.ts', 'steps:', '  a:', '    tool: x', '    next: done', '  done: { final: true }', ''].join('\n'));
    const module = join(dir, 'wf.ts');
    writeFileSync(module, "import { defineWorkflow } from 'stepwise';\nexport default defineWorkflow({ id: 'w', steps: { done: { final: true } } ;\n");
    const [validated, ran, moduleRun, moduleValidated] = await Promise.all([
      cli(['validate', definition]),
      cli(['run', definition, '--store', 'memory', '--emulator']),
      cli(['run', module, '--store', 'memory', '--emulator']),
      cli(['validate', module]),
    ]);
    // "=>" is the 29th character of its line (esbuild counts columns from 0: it said 1:28).
    const located = `TypeScript syntax error: ${tools}:1:29: Expected ")" but found "=>"`;
    expect(validated.code).toBe(1);
    expect(validated.stdout.trim()).toBe(`${definition}:2:8: tools: cannot load tool module ./tools.ts: ${located}`);
    expectOneLine(ran, located);
    // The error is in the definition module itself: its location is the issue's, not a 1:1 before it.
    const inModule = `${module}:2:75: cannot load the definition module: TypeScript syntax error: Expected "}" but found ";"`;
    expectOneLine(moduleRun, `stepwise: ${inModule}`);
    expect(moduleValidated.code).toBe(1);
    expect(moduleValidated.stdout.trim()).toBe(inModule);
  });
});

describe.concurrent('the hints after a run work as printed', { timeout: SPAWN_BUDGET_MS }, () => {
  it('budget_exhausted: says so, and the hint with --budget and the same store continues the run', async () => {
    const store = storeIn(tempDir());
    const stopped = await cli(['run', '--emulator', ...invoice, '--store', store, '--budget', '100', '--id', 'budget-1']);
    expect(stopped.code).toBe(1);
    expect(stopped.stdout).toContain('budget_exhausted at extract: the next model call would bring the run to');
    expect(stopped.stdout).not.toContain('failed at');
    // The progress line of the step the budget stopped says so (it said "✗ extract failed · 0 attempts").
    expect(stopped.stderr).toMatch(/^■ extract stopped: out of budget · 0 attempts · 0 tokens/m);
    expect(stopped.stderr).not.toContain('extract failed');
    const hint = lineAfter(stopped.stdout, 'resume with a token budget larger than 100 (enough for the call above): ');
    // No model is configured and the store is not the default one: the hint carries --emulator, as the run did.
    expect(hint).toBe(`stepwise resume budget-1 --budget <tokens> --store ${store} --emulator`);
    const resumed = await runHint(hint!, { '<tokens>': '20000' });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain('run budget-1 (invoice-approval');
    expect(resumed.stdout).toContain('waiting at cfo_approval');

    const sendHint = resumed.stdout.split('\n').find((l) => l.startsWith('waiting at'))!.split(': ')[1]!;
    expect(sendHint).toBe(`stepwise send budget-1 <EVENT> --store ${store} --emulator`);
    const approved = await runHint(sendHint, { '<EVENT>': 'APPROVE' });
    expect(approved.code, approved.stderr).toBe(0);
    expect(approved.stdout).toContain('): done');

    const cancelled = await cli(['cancel', (await cli(['run', '--emulator', ...invoice, '--store', store, '--budget', '100', '--json'])).stdout.match(/"runId":"([^"]+)"/)![1]!, '--store', store]);
    expect(cancelled.stdout).toMatch(/\ncancelled at extract: /);
    expect(cancelled.stdout).not.toContain('failed at');
    expect(cancelled.stdout).not.toContain('resume');
  });

  it("budget_exhausted in a sub-workflow's slice: the progress lines of the child's step and of the parent's step say the budget stopped them", async () => {
    const dir = tempDir();
    const tools = join(root, 'definitions/tools/invoice.ts');
    writeFileSync(
      join(dir, 'child.yaml'),
      ['id: child', `tools: ${tools}`, 'steps:', '  fill:', '    claude: { tool: check_vendor, prompt: "Pick vendor V-1001.", maxTokens: 200 }', '    next: done', '  done: { final: true }', ''].join('\n'),
    );
    const parent = join(dir, 'parent.yaml');
    writeFileSync(parent, ['id: parent', 'steps:', '  sub:', '    workflow: { file: child.yaml, budget: { tokens: 100 } }', '    next: done', '  done: { final: true }', ''].join('\n'));
    const stopped = await cli(['run', '--emulator', parent, '--store', storeIn(dir)]);
    expect(stopped.code).toBe(1);
    expect(stopped.stdout).toContain('budget_exhausted at sub: ');
    expect(stopped.stderr).toMatch(/^■ fill stopped: out of budget · 0 attempts/m);
    expect(stopped.stderr).toMatch(/^■ sub stopped: out of budget · 1 attempt/m);
    expect(stopped.stderr).not.toMatch(/failed ·/);
  });

  it('resume of a cancelled run says in one line that a cancelled run cannot be resumed, and the rerun it suggests works as printed', async () => {
    const store = storeIn(tempDir());
    expect((await cli(['run', '--emulator', ...invoice, '--store', store, '--id', 'cancel-1'])).stdout).toContain('waiting at cfo_approval');
    expect((await cli(['cancel', 'cancel-1', '--store', store])).stdout).toMatch(/\ncancelled at cfo_approval: /);
    const resumed = await cli(['resume', 'cancel-1', '--store', store, '--emulator']);
    // It printed the cancelled run again and exited 1, saying nothing of why.
    expectOneLine(resumed, 'run cancel-1 was cancelled at cfo_approval; a cancelled run cannot be resumed: start a new run from a step, keeping the outputs before it: ');
    expect(resumed.stdout).toBe('');
    const hint = resumed.stderr.trim().split(': ').at(-1)!;
    expect(hint).toBe(`stepwise rerun cancel-1 --from cfo_approval --store ${store} --emulator`);
    const rerun = await runHint(hint);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stdout).toContain('waiting at cfo_approval');
  });

  it('a failure on invalid data suggests fixing the definition and rerunning, not a resume that fails the same way', async () => {
    const dir = tempDir();
    const store = storeIn(dir);
    const definition = join(dir, 'fails.yaml');
    writeFileSync(
      definition,
      ['id: bad-input', `tools: ${join(root, 'definitions/tools/invoice.ts')}`, 'steps:', '  validate:', '    tool: check_vendor', '    with: { vendorId: 42 }', '    next: done', '  done: { final: true }', ''].join('\n'),
    );
    const failed = await cli(['run', '--emulator', definition, '--store', store, '--id', 'bad-1']);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain('failed at validate (invalid_data): the input of check_vendor is invalid');
    expect(failed.stdout).not.toContain('stepwise resume');
    expect(failed.stdout).toContain(`stepwise rerun bad-1 --from validate --definition <fixed file> --store ${store} --emulator\n`);
  });

  it('on the memory store a waiting or stopped run warns that no other process can continue it', async () => {
    const [waiting, stopped, fromEnv] = await Promise.all([
      cli(['run', '--emulator', ...invoice, '--store', 'memory']),
      cli(['run', '--emulator', ...invoice, '--store', 'memory', '--budget', '100']),
      cli(['run', '--emulator', ...invoice, '--budget', '100'], baseEnv({ STEPWISE_STORE: 'memory' })),
    ]);
    expect(waiting.code).toBe(0);
    expect(waiting.stdout).toContain('waiting at cfo_approval for APPROVE or REJECT\n');
    expect(waiting.stdout).toContain('note: the memory store ends with this process, so this run cannot be sent events from another one');
    expect(waiting.stdout).not.toContain('stepwise send');
    for (const result of [stopped, fromEnv]) {
      expect(result.stdout).toContain('note: the memory store ends with this process, so this run cannot be resumed from another one');
      expect(result.stdout).not.toContain('stepwise resume');
    }
  });
});

describe.concurrent('one store setting, stores named, run-id prefixes', { timeout: SPAWN_BUDGET_MS }, () => {
  it('STEPWISE_STORE is the store of every command without --store, and hints then need none', async () => {
    const store = storeIn(tempDir());
    const env = baseEnv({ STEPWISE_STORE: store });
    const refused = await cli(['run', ...invoice], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`A run on a store other than the default SQLite file (${store}) needs a configured model`);

    const ran = await cli(['run', '--emulator', ...invoice, '--id', 'env-run-1'], env);
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stdout).toContain('stepwise send env-run-1 <EVENT> --emulator\n');
    const [shown, listed, flagWins] = await Promise.all([
      cli(['show', 'env-run-1', '--json'], env),
      cli(['list', '--json'], env),
      cli(['show', 'env-run-1', '--store', 'memory'], env),
    ]);
    expect(JSON.parse(shown.stdout)).toMatchObject({ runId: 'env-run-1', status: 'waiting' });
    expect((JSON.parse(listed.stdout) as Array<{ runId: string }>).map((r) => r.runId)).toEqual(['env-run-1']);
    expectOneLine(flagWins, 'No run with id "env-run-1" in the store memory. List runs with `stepwise list --store memory`.');

    const missing = await cli(['send', 'nope', 'APPROVE', '--emulator'], env);
    expectOneLine(missing, `No run with id "nope" in the store ${store} (from STEPWISE_STORE). List runs with \`stepwise list\`.`);
  });

  it('an unambiguous run-id prefix works in every command; an ambiguous one lists the candidates', async () => {
    const store = storeIn(tempDir());
    const at = ['--store', store];
    for (const id of ['pfx-aaaa-1', 'pfx-aaaa-2', 'pfx-bbbb-1']) {
      expect((await cli(['run', '--emulator', ...invoice, ...at, '--id', id])).code).toBe(0);
    }
    const [shown, ambiguous, tooShort] = await Promise.all([cli(['show', 'pfx-b', ...at, '--json']), cli(['cancel', 'pfx-aaaa', ...at]), cli(['show', 'pfx', ...at])]);
    expect(JSON.parse(shown.stdout)).toMatchObject({ runId: 'pfx-bbbb-1' });
    expect(ambiguous.code).toBe(1);
    expect(ambiguous.stderr).toBe(
      ['stepwise: The run id prefix "pfx-aaaa" is ambiguous: 2 runs match; give more of the id:', '  pfx-aaaa-2 (invoice-approval, waiting)', '  pfx-aaaa-1 (invoice-approval, waiting)', ''].join('\n'),
    );
    expectOneLine(tooShort, `No run with id "pfx" in the store ${store}.`);

    const sent = await cli(['send', 'pfx-bbbb', 'APPROVE', ...at, '--emulator', '--json']);
    expect(sent.code, sent.stderr).toBe(0);
    expect(lastJson(sent.stdout)).toMatchObject({ runId: 'pfx-bbbb-1', status: 'done' });
    const cancelled = await cli(['cancel', 'pfx-aaaa-2', ...at, '--json']);
    expect(lastJson(cancelled.stdout)).toMatchObject({ runId: 'pfx-aaaa-2', status: 'cancelled' });
    // Only one run left starts with pfx-a that is not cancelled; the prefix is still ambiguous across statuses.
    expect((await cli(['resume', 'pfx-a', ...at, '--emulator'])).stderr).toContain('is ambiguous: 2 runs match');
  });
});
