/** `diagram`: a definition as Mermaid, machine JSON (Stately), DOT or SVG. */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { loadDefinition } from '../../definition/load.js';
import { StepwiseError } from '../../errors.js';
import { diagram, diagramFormats, type DiagramFormat } from '../../observe/diagram.js';

export function registerDiagramCommand(program: Command): void {
  program
    .command('diagram <file>')
    .description('draw a definition: mermaid (renders on GitHub), json (the XState machine config Stately imports), dot, svg')
    .option('--format <format>', `one of ${diagramFormats.join(', ')}`, 'mermaid')
    .option('-o, --output <file>', 'write to a file instead of stdout')
    .action(async (file: string, opts: { format: string; output?: string }) => {
      if (!diagramFormats.includes(opts.format as DiagramFormat)) {
        throw new StepwiseError('usage', `--format must be one of ${diagramFormats.join(', ')}, got "${opts.format}"`);
      }
      const definition = await loadDefinition(file);
      const text = await diagram(definition.workflow, opts.format as DiagramFormat);
      if (opts.output) writeFileSync(opts.output, text);
      else process.stdout.write(text);
    });
}
