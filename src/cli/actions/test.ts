/** `test <file>`: walks every path of a definition on the emulator and reports what is wrong. */
import { stepIds } from '../../definition/sequences.js';
import { existsSync } from 'node:fs';
import { loadDefinition } from '../../definition/load.js';
import { startEmulator } from '../../emulator/index.js';
import { resolveModel } from '../../model/client.js';
import { EMULATOR_KEY } from '../../model/credentials.js';
import { pathName } from '../../observe/path-name.js';
import { testPaths, type PathReport } from '../../observe/paths.js';
import { color, parseIntArg, readJsonArg } from '../io.js';

export interface TestFlags {
  input?: string;
  seed: string;
  faults?: string;
  json?: boolean;
}

/** `definitions/x.yaml` → `definitions/x.input.json`, when it exists. */
function defaultInput(file: string): string | undefined {
  const candidate = `${file.replace(/\.(ya?ml|json|[cm]?[jt]s)$/i, '')}.input.json`;
  return existsSync(candidate) ? `@${candidate}` : undefined;
}

/** The lines of a report's paths, then those of its child runs' own paths, indented under the step that starts them. */
function pathLines(report: PathReport, indent: string): string[] {
  const lines: string[] = [];
  for (const p of report.paths) {
    // A run that ended done by another route than its path's passed nothing (the finding says where it left it).
    const followed = p.divergence === null;
    const mark = p.status === 'done' && followed ? color.green('✓') : color.red('✗');
    const unfollowed = followed ? '' : `, ${color.red('not followed')}`;
    lines.push(`${indent}${mark} ${pathName(p)}: ${p.status}, ${p.tokens} tokens (worst case ${p.worstCaseTokens})${unfollowed}`);
  }
  for (const child of report.children) {
    const counted = child.times === 0 ? 'its budget slice counted instead' : `worst path counted ${child.times}× in the step's worst case`;
    lines.push(`${indent}child runs of "${child.step}" (${child.report.workflow}): ${child.report.paths.length} paths, ${counted}`);
    lines.push(...pathLines(child.report, `${indent}  `));
  }
  return lines;
}

export async function action(file: string, opts: TestFlags, setExit: (code: number) => void): Promise<void> {
  const definition = await loadDefinition(file);
  const input = readJsonArg(opts.input ?? defaultInput(file), '--input') ?? {};
  const emulator = await startEmulator({ seed: parseIntArg(opts.seed, '--seed') ?? 1, ...(opts.faults ? { faults: opts.faults } : {}) });
  try {
    const report = await testPaths(definition.workflow, {
      input,
      tools: definition.tools,
      source: definition.source,
      model: resolveModel({ baseURL: emulator.url, apiKey: EMULATOR_KEY, maxRetries: 0 }),
    });
    setExit(report.findings.length > 0 ? 1 : 0);
    if (opts.json) {
      process.stdout.write(`${JSON.stringify(report)}\n`);
      return;
    }
    const total = stepIds(definition.workflow).length;
    const lines = [`${report.workflow}: ${report.paths.length} paths, ${report.reached.length} of ${total} steps reachable, budget limit ${report.budget.limit} tokens`];
    lines.push(...pathLines(report, '  '));
    for (const f of report.findings) lines.push(color.red(`${f.kind}: ${f.message}`));
    lines.push(report.findings.length ? color.red(`${report.findings.length} problems`) : color.green('no problems found'));
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await emulator.close();
  }
}
