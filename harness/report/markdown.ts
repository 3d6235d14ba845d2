import { type RunJournal } from './journal.js';
import { failureReason } from './outcome.js';
import { flakyLine, ms, spread } from './summary.js';

const cell = (t: string) => t.replaceAll('|', '\\|').replaceAll('\n', ' ');
const row = (cells: readonly string[]) => `| ${cells.map(cell).join(' | ')} |`;
const tableOf = (header: readonly string[], rows: readonly (readonly string[])[]) => [row(header), row(header.map(() => '---')), ...rows.map(row)].join('\n');

/** The run for a GitHub job summary ($GITHUB_STEP_SUMMARY): the drills, the percentiles, the flaky list, the reports written. */
export function formatMarkdown(run: RunJournal, reports: readonly string[] = []): string {
  const repeated = run.repeat > 1;
  const recovered = run.drills.filter((d) => d.verdict === 'recovered').length;
  const drills = tableOf(
    ['backend', ...(repeated ? ['#'] : []), 'scenario', 'target', 'repaired by', 'MTTD', 'MTTR', 'result'],
    run.drills.map((d) => [
      d.backend,
      ...(repeated ? [String(d.repeat)] : []),
      d.scenario,
      d.target,
      d.repairer,
      ms(d.detection?.mttdMs),
      ms(d.recovery?.mttrMs),
      d.verdict === 'recovered' ? '✅ recovered' : `❌ ${d.verdict}: ${failureReason(d)}`,
    ]),
  );
  const stats = repeated
    ? tableOf(
        ['backend', 'scenario', 'repaired by', 'recovered', 'MTTD p50 / p95 / max', 'MTTR p50 / p95 / max', 'status'],
        run.scenarios.map((s) => [s.backend, s.scenario, s.repairer, `${s.recovered}/${s.runs}`, spread(s.mttdMs), spread(s.mttrMs), s.status]),
      )
    : '';
  const flaky = run.scenarios.filter((s) => s.status === 'flaky').map((s) => `- ${flakyLine(s, run.drills)}`);
  return [
    `## firedrill: ${recovered}/${run.drills.length} drills recovered`,
    `firedrill ${run.firedrill.version} on ${run.clusters.map((c) => `${c.backend} ${c.name} (${c.nodes.length} nodes)`).join(', ')}, kernel ${run.host.kernel}, ${run.startedAt}`,
    drills,
    ...(stats ? ['### Over the repeats', stats] : []),
    ...(flaky.length ? ['### Flaky', flaky.join('\n')] : []),
    ...(reports.length ? ['### Reports', reports.map((r) => `- \`${r}\``).join('\n')] : []),
  ].join('\n\n') + '\n';
}
