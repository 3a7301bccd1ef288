/** `schema`: print the JSON Schema of the definition format (for editor autocompletion). */
import type { Command } from 'commander';

export function registerSchemaCommand(program: Command): void {
  program
    .command('schema')
    .description('print the JSON Schema of the definition format (for editor autocompletion)')
    .action(async () => {
      const { workflowJsonSchemaText } = await import('../../definition/json-schema.js');
      process.stdout.write(workflowJsonSchemaText());
    });
}
