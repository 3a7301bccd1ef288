/** `schema`: print the JSON Schema of the definition format (for editor autocompletion). */
import type { Command } from 'commander';
import { workflowJsonSchemaText } from '../../definition/json-schema.js';

export function registerSchemaCommand(program: Command): void {
  program
    .command('schema')
    .description('print the JSON Schema of the definition format (for editor autocompletion)')
    .action(() => {
      process.stdout.write(workflowJsonSchemaText());
    });
}
