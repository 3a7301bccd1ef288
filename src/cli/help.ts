/** How `stepwise … --help` reads: defaults shown as the values they are (`(default: 200)`, not `(default: "200")`). */
import type { Command } from 'commander';

/** Gives every option with a string default, in `command` and its subcommands, that default as its shown value. */
export function showDefaultsAsValues(command: Command): void {
  for (const option of command.options) {
    if (typeof option.defaultValue === 'string' && option.defaultValueDescription === undefined) option.defaultValueDescription = option.defaultValue;
  }
  for (const sub of command.commands) showDefaultsAsValues(sub);
}
