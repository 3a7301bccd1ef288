/** `emulator`: serves the Messages API emulator until SIGINT/SIGTERM. */
import { startEmulator } from '../../emulator/index.js';
import { parseIntArg } from '../io.js';

export interface EmulatorFlags {
  port: string;
  host: string;
  seed: string;
  faults?: string;
}

export async function action(opts: EmulatorFlags): Promise<void> {
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
}
