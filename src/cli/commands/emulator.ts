/** `emulator`: run the Messages API emulator as a server until stopped. */
import type { Command } from 'commander';
import { startEmulator } from '../../emulator/index.js';
import { parseIntArg } from '../io.js';

export function registerEmulatorCommand(program: Command): void {
  program
    .command('emulator')
    .description('serve the Messages API emulator (POST /v1/messages, /v1/messages/count_tokens)')
    .option('--port <n>', 'port (default 4010; 0 picks a free one)', '4010')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--seed <n>', 'seed of the simulated model', '1')
    .option('--faults <spec>', 'a profile (none, flaky, hostile) or name=value,…')
    .action(async (opts: { port: string; host: string; seed: string; faults?: string }) => {
      const emulator = await startEmulator({
        port: parseIntArg(opts.port, '--port') ?? 4010,
        host: opts.host,
        seed: parseIntArg(opts.seed, '--seed') ?? 1,
        ...(opts.faults ? { faults: opts.faults } : {}),
      });
      process.stdout.write(`stepwise emulator listening on ${emulator.url}\nuse it with: ANTHROPIC_BASE_URL=${emulator.url} ANTHROPIC_API_KEY=any\n`);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await emulator.close();
    });
}
