import { type DrillJournal, type ScenarioStats } from './journal.js';

/** Nearest-rank percentile of sorted values (p in 0..100). */
export function percentile(sorted: readonly number[], p: number): number {
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1]!;
}

export function spread(values: number[]): ScenarioStats['mttdMs'] {
  if (!values.length) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return { n: sorted.length, p50: percentile(sorted, 50), p95: percentile(sorted, 95), max: sorted.at(-1)! };
}

/**
 * Per scenario, repairer and backend over every repeat: MTTD/MTTR spread of the drills that measured
 * them, and whether it passed every time, never, or sometimes (flaky, with the repeats that failed).
 */
export function scenarioStats(drills: readonly DrillJournal[]): ScenarioStats[] {
  const groups = new Map<string, DrillJournal[]>();
  for (const d of drills) {
    const key = JSON.stringify([d.backend, d.repairer, d.scenario]);
    groups.set(key, [...(groups.get(key) ?? []), d]);
  }
  return [...groups.values()].map((runs) => {
    const first = runs[0]!;
    const failingRepeats = runs.filter((d) => d.verdict !== 'recovered').map((d) => d.repeat);
    const recovered = runs.length - failingRepeats.length;
    const mttd = spread(runs.flatMap((d) => (d.detection?.mttdMs === undefined ? [] : [d.detection.mttdMs])));
    const mttr = spread(runs.flatMap((d) => (d.recovery?.mttrMs === undefined ? [] : [d.recovery.mttrMs])));
    return {
      scenario: first.scenario,
      backend: first.backend,
      repairer: first.repairer,
      runs: runs.length,
      recovered,
      status: !failingRepeats.length ? 'passed' : recovered ? 'flaky' : 'failed',
      failingRepeats,
      ...(mttd ? { mttdMs: mttd } : {}),
      ...(mttr ? { mttrMs: mttr } : {}),
    };
  });
}
