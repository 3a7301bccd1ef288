import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Vitest's default is one file at a time on 2 cores (cores - 1). Most files spend their time
    // waiting on child processes, timers and the emulator's latency, not computing; every file keeps
    // its own temp dirs, SQLite files and PostgreSQL schemas, so two run side by side. Override with
    // `--maxWorkers` (e.g. 1 to debug).
    maxWorkers: 2,
    globalSetup: ['./test/global-setup.ts'],
    reporters: ['default', './test/summary-reporter.ts'],
  },
});
