import { type DrillJournal, type ScenarioStats } from './journal.js';
import { table } from './table.js';

export const ms = (v?: number) => (v === undefined ? '-' : v < 10_000 ? `${v} ms` : `${(v / 1000).toFixed(1)} s`);

/** The table `firedrill run` ends with: one row per drill (with its backend when there are several). */
export function formatSummary(journals: DrillJournal[]): string {
  const several = new Set(journals.map((j) => j.backend)).size > 1;
  const repeated = journals.some((j) => j.repeat > 1);
  const rows = journals.map((j) => [
    ...(several ? [j.backend] : []),
    ...(repeated ? [String(j.repeat)] : []),
    j.scenario,
    j.target,
    j.repairer,
    j.symptom?.seen ? 'yes' : 'NO',
    j.detection?.finding ? j.detection.finding.kind : 'NO',
    ms(j.detection?.mttdMs),
    ms(j.recovery?.mttrMs),
    j.verdict === 'recovered' ? 'RECOVERED' : j.verdict.toUpperCase(),
  ]);
  const ok = journals.filter((j) => j.verdict === 'recovered').length;
  const incident = journals.flatMap((j) =>
    j.incident
      ? [`${j.incident.agrees ? 'as the incident says' : 'FOUND, unlike the incident report'}: ${j.scenario} ${j.repairer} ${j.incident.says === 'recovered' ? 'recovered there' : 'did not recover there'}; here: ${j.verdict}`]
      : [],
  );
  return `${table([...(several ? ['BACKEND'] : []), ...(repeated ? ['#'] : []), 'SCENARIO', 'TARGET', 'REPAIRED BY', 'SYMPTOM', 'DETECTED', 'MTTD', 'MTTR', 'RESULT'], rows)}\n${[...incident, `${ok}/${journals.length} drills recovered`].join('\n')}`;
}

export const spread = (p?: ScenarioStats['mttdMs']) => (p ? `${ms(p.p50)} / ${ms(p.p95)} / ${ms(p.max)}` : '-');

/** What a flaky scenario did: which repeats failed and how. */
export function flakyLine(s: ScenarioStats, drills: readonly DrillJournal[]): string {
  const how = s.failingRepeats.map((r) => `#${r} ${drills.find((d) => d.scenario === s.scenario && d.backend === s.backend && d.repairer === s.repairer && d.repeat === r)?.verdict ?? '?'}`);
  return `FLAKY ${s.scenario} (${s.repairer}, ${s.backend}): recovered ${s.recovered}/${s.runs}; failed in ${how.join(', ')}`;
}

/** Over --repeat: MTTD and MTTR p50/p95/max per scenario, and which scenarios are flaky. Empty when every scenario ran once. */
export function formatStats(stats: readonly ScenarioStats[], drills: readonly DrillJournal[]): string {
  if (!stats.some((s) => s.runs > 1)) return '';
  const several = new Set(stats.map((s) => s.backend)).size > 1;
  const rows = stats.map((s) => [
    ...(several ? [s.backend] : []),
    s.scenario,
    s.repairer,
    `${s.recovered}/${s.runs}`,
    spread(s.mttdMs),
    spread(s.mttrMs),
    s.status.toUpperCase(),
  ]);
  const flaky = stats.filter((s) => s.status === 'flaky').map((s) => flakyLine(s, drills));
  return [table([...(several ? ['BACKEND'] : []), 'SCENARIO', 'REPAIRED BY', 'RECOVERED', 'MTTD p50 / p95 / max', 'MTTR p50 / p95 / max', 'STATUS'], rows), ...flaky].join('\n');
}

/**
 * The same drills on several backends, verdicts side by side: a verdict that differs between the
 * lab and kind is a finding about the lab (kind runs the real kubelet and runtime).
 */
export function formatFidelity(journals: DrillJournal[]): string {
  const backends = [...new Set(journals.map((j) => j.backend))];
  const keys = [...new Set(journals.map((j) => `${j.scenario}\t${j.repairer}`))];
  const verdicts = (key: string, backend: string) =>
    journals
      .filter((j) => `${j.scenario}\t${j.repairer}` === key && j.backend === backend)
      .map((j) => j.verdict)
      .join(',') || '-';
  const rows = keys.map((key) => {
    const cells = backends.map((b) => verdicts(key, b));
    return [...key.split('\t'), ...cells, new Set(cells).size > 1 ? 'DIFFERS' : 'same'];
  });
  const differ = rows.filter((r) => r.at(-1) === 'DIFFERS').length;
  return `${table(['SCENARIO', 'REPAIRED BY', ...backends.map((b) => b.toUpperCase()), 'FIDELITY'], rows)}\n${differ ? `${differ} verdict(s) differ between backends: see the journals' evidence` : `every verdict is the same on ${backends.join(' and ')}`}`;
}
