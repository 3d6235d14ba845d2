import type { Reporter, TestCase, TestModule } from 'vitest/node';

function inFailedSuite(test: TestCase): boolean {
  for (let parent = test.parent; ; parent = parent.parent) {
    if (parent.state() === 'failed') return true;
    if (parent.type === 'module') return false;
  }
}

/**
 * Ends the run with one plain line, `tests: N passed, N failed, N skipped`, that any CI
 * reads, preceded by every skipped test and the reason it gave: a skip is never a pass.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const count = { passed: 0, failed: 0, skipped: 0 };
    const skips: string[] = [];
    for (const module of modules) {
      for (const test of module.children.allTests()) {
        const result = test.result();
        if (result.state === 'passed') count.passed++;
        else if (result.state === 'failed') count.failed++;
        else if (result.state === 'skipped' && inFailedSuite(test)) {
          // Skipped because a beforeAll or the file itself failed: that is a failure.
          count.failed++;
        } else if (result.state === 'skipped') {
          count.skipped++;
          skips.push(`  skipped: ${test.fullName}${result.note ? ` (${result.note})` : ''}`);
        }
      }
    }
    if (skips.length) process.stdout.write(`${skips.join('\n')}\n`);
    process.stdout.write(`tests: ${count.passed} passed, ${count.failed} failed, ${count.skipped} skipped\n`);
  }
}
