/** `init [dir]`: writes the scaffold files into dir, refusing to overwrite any. */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { StepwiseError } from '../../errors.js';
import { schemaFile } from '../package-info.js';
import { scaffoldFiles, workflowIdFor } from '../scaffold/files.js';

/** A path for the user's shell: relative to the working directory, `/` separated. */
const shown = (path: string): string => relative(process.cwd(), path).split('\\').join('/') || '.';

export function action(dir: string | undefined): void {
  const target = resolve(dir ?? '.');
  const schemaPath = relative(target, schemaFile).split('\\').join('/');
  const files = scaffoldFiles({ id: workflowIdFor(basename(target)), schemaPath });
  const taken = files.map((f) => join(target, f.name)).filter((path) => existsSync(path));
  if (taken.length > 0) {
    throw new StepwiseError('usage', `init writes no file that exists already: ${taken.map(shown).join(', ')}; choose another directory (stepwise init <dir>)`);
  }
  mkdirSync(target, { recursive: true });
  for (const file of files) writeFileSync(join(target, file.name), file.content, { flag: 'wx' });
  const at = (name: string) => shown(join(target, name));
  process.stdout.write(
    [
      `created ${files.map((f) => at(f.name)).join(', ')}`,
      'next:',
      `  npx stepwise validate ${at('workflow.yaml')}`,
      `  npx stepwise run ${at('workflow.yaml')} --input @${at('workflow.input.json')}`,
      `  npx stepwise send <runId> APPROVE --data '{"by":"you"}'`,
      `  npx tsx --test ${at('workflow.test.mts')}`,
      '',
    ].join('\n'),
  );
}
