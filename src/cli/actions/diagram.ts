/** `diagram <file>`: draws a definition in one of the diagram formats. */
import { writeFileSync } from 'node:fs';
import { loadDefinition } from '../../definition/load.js';
import { StepwiseError } from '../../errors.js';
import { diagram, diagramFormats, type DiagramFormat } from '../../observe/diagram.js';

export interface DiagramFlags {
  format: string;
  output?: string;
}

export async function action(file: string, opts: DiagramFlags): Promise<void> {
  if (!diagramFormats.includes(opts.format as DiagramFormat)) {
    throw new StepwiseError('usage', `--format must be one of ${diagramFormats.join(', ')}, got "${opts.format}"`);
  }
  const definition = await loadDefinition(file);
  const text = await diagram(definition.workflow, opts.format as DiagramFormat);
  if (opts.output) writeFileSync(opts.output, text);
  else process.stdout.write(text);
}
