#!/usr/bin/env node
/** The `stepwise` command. */
import './v8-flags.js';
import { Command } from 'commander';
import { StepwiseError } from '../errors.js';
import { registerCommands } from './commands/index.js';
import { showDefaultsAsValues } from './help.js';
import { packageInfo } from './package-info.js';
import { redactCredentials, redactSecrets } from '../util/redact.js';
import { messageOf } from '../util/error-message.js';

/** The most characters of a stray rejection's message printed. */
const STRAY_MESSAGE_MAX = 500;

/** An error the operating system reported (`EACCES`, `EADDRINUSE`, …): it names the path or the port. */
function isSystemError(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).code === 'string' && typeof (error as NodeJS.ErrnoException).syscall === 'string';
}

// A reader that closes early (`stepwise list | head -n 1`) ends the command quietly, as other CLIs do.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

// Tool code may leave a promise rejected with nothing to handle it (a fire-and-forget call gone wrong): Node would
// end the process, and every run it drives with it (a worker that claimed the run again would die the same way).
// The CLI says so, with credentials hidden and no stack (which names the tools module's code), and goes on.
process.on('unhandledRejection', (reason) => {
  let text: string;
  try {
    text = redactCredentials(messageOf(reason)).slice(0, STRAY_MESSAGE_MAX);
  } catch {
    text = 'a value that cannot be read';
  }
  process.stderr.write(`stepwise: a promise was rejected and nothing handled it (in tool code?); going on: ${text}\n`);
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
