/**
 * Prints the plain `N passed, N failed` line CI reads, after vitest's own
 * report, and writes it to `test-results.txt` for `.ci/run`.
 *
 * A test that did not run because its file or a hook failed counts as failed,
 * not skipped, and so does each unhandled error: the line never looks greener
 * than the run was.
 */
import { writeFileSync } from 'node:fs';
import type { Reporter, TestModule } from 'vitest/node';

export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown> = []): void {
    let passed = 0;
    let failed = unhandledErrors.length;
    let skipped = 0;
    for (const module of modules) {
      const broken = module.state() === 'failed';
      const tests = [...module.children.allTests()];
      for (const test of tests) {
        const state = test.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed' || broken) failed++;
        else skipped++;
      }
      // A file that failed to load has no tests but is a failure.
      if (broken && tests.length === 0) failed++;
    }
    const line = `${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`;
    writeFileSync('test-results.txt', `${line}\n`);
    process.stdout.write(`\n${line}\n`);
  }
}
