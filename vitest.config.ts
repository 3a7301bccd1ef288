import { configDefaults, defineConfig } from 'vitest/config';

/**
 * Files that change process-wide state no other file may see (a step kind
 * registered for good): each runs in a fresh process of its own.
 */
const isolated = ['test/kinds/toy-kind.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Vitest's default is one file at a time on 2 cores (cores - 1). Most files spend their time
    // waiting on child processes, timers and the emulator's latency, not computing; every file keeps
    // its own temp dirs, SQLite files and PostgreSQL schemas, so two run side by side. Override with
    // `--maxWorkers` (e.g. 1 to debug).
    maxWorkers: 2,
    globalSetup: ['./test/global-setup.ts'],
    // The memory store checks that no committed snapshot or journal entry is edited afterwards (src/store/kept-value.ts):
    // every test that runs the engine on it holds the engine to that.
    env: { STEPWISE_VERIFY_MEMORY_STORE: '1' },
    reporters: ['default', './test/summary-reporter.ts'],
    projects: [
      {
        extends: true,
        // A worker process runs file after file, importing src and its dependencies once instead of
        // once per file (about 0.8 s of CPU each). The code keeps no module-level state, and the
        // tests restore what they change (environment, spies); those that cannot are `isolated`.
        test: { name: 'shared', include: ['test/**/*.test.ts'], exclude: [...configDefaults.exclude, ...isolated], isolate: false },
      },
      { extends: true, test: { name: 'isolated', include: isolated } },
    ],
  },
});
