import { describe, expect, it } from 'vitest';
import { percentile, scenarioStats } from '../../harness/report/stats.js';
import { formatStats, formatSummary } from '../../harness/report/summary.js';
import { drill, flakyRun } from './journals.js';

describe('statistics over --repeat', () => {
  it('takes nearest-rank percentiles', () => {
    const values = Array.from({ length: 20 }, (_, i) => (i + 1) * 10);
    expect(percentile(values, 50)).toBe(100);
    expect(percentile(values, 95)).toBe(190);
    expect(percentile([7], 95)).toBe(7);
    expect(percentile([100, 200, 900], 50)).toBe(200);
  });

  it('gives p50/p95/max per scenario and calls a scenario that passes only sometimes flaky, naming its failing repeats', () => {
    const run = flakyRun();
    expect(run.scenarios).toEqual([
      expect.objectContaining({ scenario: 'cni0-deleted', runs: 3, recovered: 3, status: 'passed', failingRepeats: [], mttdMs: { n: 3, p50: 220, p95: 230, max: 230 }, mttrMs: { n: 3, p50: 1100, p95: 1200, max: 1200 } }),
      // the failed repeat measured MTTD but no MTTR
      expect.objectContaining({ scenario: 'vxlan-blocked', runs: 3, recovered: 2, status: 'flaky', failingRepeats: [2], mttdMs: { n: 3, p50: 600, p95: 900, max: 900 }, mttrMs: { n: 2, p50: 1000, p95: 3000, max: 3000 } }),
    ]);
    const text = formatStats(run.scenarios, run.drills);
    expect(text).toMatch(/^SCENARIO\s+REPAIRED BY\s+RECOVERED\s+MTTD p50 \/ p95 \/ max\s+MTTR p50 \/ p95 \/ max\s+STATUS$/m);
    expect(text).toMatch(/^cni0-deleted\s+the library\s+3\/3\s+220 ms \/ 230 ms \/ 230 ms\s+1100 ms \/ 1200 ms \/ 1200 ms\s+PASSED$/m);
    expect(text).toMatch(/^vxlan-blocked\s+the library\s+2\/3\s+600 ms \/ 900 ms \/ 900 ms\s+1000 ms \/ 3000 ms \/ 3000 ms\s+FLAKY$/m);
    expect(text).toContain('FLAKY vxlan-blocked (the library, lab): recovered 2/3; failed in #2 not-recovered');
    expect(formatSummary(run.drills)).toMatch(/^2\s+vxlan-blocked\s+rep-worker\s+the library\s+yes\s+vxlan-blocked\s+600 ms\s+-\s+NOT-RECOVERED$/m);
  });

  it('a scenario that never recovers is failed, not flaky; a single pass shows no statistics', () => {
    const failed = scenarioStats([drill({ verdict: 'error' }), drill({ repeat: 2, verdict: 'not-recovered' })]);
    expect(failed).toEqual([expect.objectContaining({ status: 'failed', failingRepeats: [1, 2], recovered: 0 })]);
    expect(formatStats(scenarioStats([drill()]), [drill()])).toBe('');
  });
});
