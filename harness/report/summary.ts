import { type DrillJournal } from '../runner/drill.js';
import { table } from './table.js';

const ms = (v?: number) => (v === undefined ? '-' : v < 10_000 ? `${v} ms` : `${(v / 1000).toFixed(1)} s`);

/** The table `firedrill run` ends with: one row per drill. */
export function formatSummary(journals: DrillJournal[]): string {
  const rows = journals.map((j) => [
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
  return `${table(['SCENARIO', 'TARGET', 'REPAIRED BY', 'SYMPTOM', 'DETECTED', 'MTTD', 'MTTR', 'RESULT'], rows)}\n${[...incident, `${ok}/${journals.length} drills recovered`].join('\n')}`;
}
