#!/usr/bin/env node
/** The `stepwise` command. */
import './v8-flags.js';
import { Command } from 'commander';
import { StepwiseError } from '../errors.js';
import { registerCommands } from './commands/index.js';
import { showDefaultsAsValues } from './help.js';
import { packageInfo } from './package-info.js';
import { redactSecrets } from '../util/redact.js';

/** An error the operating system reported (`EACCES`, `EADDRINUSE`, …): it names the path or the port. */
function isSystemError(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).code === 'string' && typeof (error as NodeJS.ErrnoException).syscall === 'string';
}

// A reader that closes early (`stepwise list | head -n 1`) ends the command quietly, as other CLIs do.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

let exitCode = 0;
const setExit = (code: number) => {
  exitCode = code;
};

const program = new Command()
  .name('stepwise')
  .description('Declarative workflows for Claude tool use: XState machines, token budgets, durable runs.')
  .version(packageInfo().version, '-V, --version', 'print the version')
  .showHelpAfterError()
  // One prefix for every error, the parser's included ("stepwise: unknown option '--x'", not "error: …").
  .configureOutput({ outputError: (text, write) => write(text.replace(/^error: /, 'stepwise: ')) });

registerCommands(program, setExit);
showDefaultsAsValues(program);

// The process lives until its command settles: a step awaiting a tool that holds no handle (and the
// engine's unref'd cancel and lease polls) must not let Node exit mid-run with code 13.
const alive = setInterval(() => {}, 1 << 30);
try {
  await program.parseAsync(process.argv);
  process.exitCode = exitCode;
} catch (error) {
  // Messages may name a store URL: never print its password.
  if (error instanceof StepwiseError || isSystemError(error)) {
    // A user's error (a Stepwise error, or the system refusing a file or a port): its message, no stack.
    process.stderr.write(`stepwise: ${redactSecrets(error.message)}\n`);
  } else {
    process.stderr.write(`stepwise: ${redactSecrets(error instanceof Error ? (error.stack ?? error.message) : String(error))}\n`);
  }
  process.exitCode = 1;
} finally {
  clearInterval(alive);
}
