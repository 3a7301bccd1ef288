/** `diagram`: a definition as Mermaid, machine JSON (Stately), DOT or SVG. */
import type { Command } from 'commander';
import { diagramFormats } from '../../observe/diagram-formats.js';
import type { DiagramFlags } from '../actions/diagram.js';

export function registerDiagramCommand(program: Command): void {
  program
    .command('diagram <file>')
    .description('draw a definition: mermaid (renders on GitHub), json (the XState machine config Stately imports), dot, svg')
    .option('--format <format>', `one of ${diagramFormats.join(', ')}`, 'mermaid')
    .option('-o, --output <file>', 'write to a file instead of stdout')
    .action(async (file: string, opts: DiagramFlags) => (await import('../actions/diagram.js')).action(file, opts));
}
