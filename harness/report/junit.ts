import { formatFindings, formatResults } from './findings.js';
import { type DrillJournal, type RunJournal } from './journal.js';
import { drillName, failureReason } from './outcome.js';

const escape = (text: string) =>
  text
    // XML 1.0 has no way to carry these control characters, even escaped.
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '')
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;');
const attrs = (a: Record<string, string | number>) => Object.entries(a).map(([k, v]) => ` ${k}="${escape(String(v))}"`).join('');
const seconds = (ms: number) => (ms / 1000).toFixed(3);
const span = (d: DrillJournal) => (d.endedAt ? Date.parse(d.endedAt) - Date.parse(d.startedAt) : 0);
const property = (name: string, value: string | number) => `<property${attrs({ name, value })}/>`;

/**
 * JUnit XML: one testsuite per backend and repairer, one testcase per drill and repeat. A drill that
 * did not recover is a failure (an error when the drill itself broke) carrying its verdict, the reason
 * and the findings still there, with their evidence.
 */
export function formatJUnit(run: RunJournal): string {
  const repeated = run.repeat > 1;
  const suites = new Map<string, DrillJournal[]>();
  for (const d of run.drills) suites.set(`${d.backend}\t${d.repairer}`, [...(suites.get(`${d.backend}\t${d.repairer}`) ?? []), d]);
  const count = (ds: DrillJournal[], v: (d: DrillJournal) => boolean) => ds.filter(v).length;
  const isError = (d: DrillJournal) => d.verdict === 'error';
  const isFailure = (d: DrillJournal) => d.verdict !== 'recovered' && d.verdict !== 'error';
  const totalMs = Date.parse(run.endedAt) - Date.parse(run.startedAt);
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites${attrs({ name: 'firedrill', tests: run.drills.length, failures: count(run.drills, isFailure), errors: count(run.drills, isError), time: seconds(totalMs), timestamp: run.startedAt })}>`,
  ];
  for (const [key, drills] of suites) {
    const [backend = '', repairer = ''] = key.split('\t');
    const cluster = run.clusters.find((c) => c.backend === backend);
    lines.push(
      `  <testsuite${attrs({ name: `${backend}: ${repairer}`, tests: drills.length, failures: count(drills, isFailure), errors: count(drills, isError), skipped: 0, time: seconds(drills.reduce((t, d) => t + span(d), 0)), timestamp: drills[0]!.startedAt, hostname: run.host.hostname })}>`,
      '    <properties>',
      ...[
        property('backend', backend),
        property('repairer', repairer),
        property('firedrill', run.firedrill.version),
        property('kernel', run.host.kernel),
        ...(cluster ? [property('cluster', cluster.name), property('nodes', cluster.nodes.map((n) => n.name).join(','))] : []),
        ...Object.entries(run.components).map(([c, v]) => property(`component.${c}`, v)),
      ].map((p) => `      ${p}`),
      '    </properties>',
    );
    for (const d of drills) {
      lines.push(`    <testcase${attrs({ name: drillName(d, repeated), classname: `firedrill.${backend}.${d.scenario}`, time: seconds(span(d)) })}>`);
      lines.push('      <properties>');
      for (const [name, value] of [
        ['scenario', d.scenario],
        ['repeat', d.repeat],
        ['target', d.target],
        ['repairer', d.repairer],
        ['verdict', d.verdict],
        ['mttdMs', d.detection?.mttdMs ?? ''],
        ['mttrMs', d.recovery?.mttrMs ?? ''],
      ] as const) {
        lines.push(`        ${property(name, value)}`);
      }
      lines.push('      </properties>');
      if (d.verdict !== 'recovered') {
        const body = [`verdict: ${d.verdict}`, `reason: ${failureReason(d)}`, ...(d.findings.remaining.length ? ['remaining findings:', formatFindings(d.findings.remaining)] : ['remaining findings: none recorded'])];
        const tag = isError(d) ? 'error' : 'failure';
        lines.push(`      <${tag}${attrs({ message: `${d.verdict}: ${failureReason(d)}`, type: d.verdict })}>${escape(body.join('\n'))}</${tag}>`);
      }
      lines.push(`      <system-out>${escape(stepLog(d))}</system-out>`, '    </testcase>');
    }
    lines.push('  </testsuite>');
  }
  lines.push('</testsuites>');
  return `${lines.join('\n')}\n`;
}

/** The drill's phases and every step it applied, as the run printed them. */
function stepLog(d: DrillJournal): string {
  const results = (label: string, rs: DrillJournal['repair']) => (rs.length ? [`${label}:`, formatResults(rs)] : []);
  return [
    ...d.steps.map((s) => `${s.ok ? 'ok  ' : 'FAIL'} ${s.name}${s.detail ? `: ${s.detail}` : ''} (${s.durationMs} ms)`),
    ...results('injected', d.injected),
    ...results('repair', d.repair),
    ...results('restored', d.restore),
  ].join('\n');
}
