import { ContentType, Status } from 'allure-js-commons';
import { type RuntimeMessage } from 'allure-js-commons/sdk';
import { FileSystemWriter, ReporterRuntime } from 'allure-js-commons/sdk/reporter';
import { describeStep } from '../../src/repairs/plan.js';
import { formatFindings, formatResults } from './findings.js';
import { type DrillJournal, type JournalStepResult, type RunJournal } from './journal.js';
import { drillName, failureReason } from './outcome.js';
import { formatProbeReport } from './probe.js';

type Probe = DrillJournal['probes'][number];
type Attachment = { name: string; text: string; type: ContentType };

/** The steps as the run printed them, then what each printed. */
const resultLines = (rs: readonly JournalStepResult[]) =>
  rs.length ? [formatResults(rs), ...rs.filter((r) => r.output).map((r) => `\n$ ${describeStep(r.step)}\n${r.output}`)].join('\n') : 'no steps';

/** The probe matrices taken while a phase ran: the last one (the state it ended in), as text and as data. */
function probeAttachments(probes: readonly Probe[], from: string, to: string, label: string): Attachment[] {
  const inside = probes.filter((p) => p.at >= from && p.at <= to);
  const last = inside.at(-1);
  return last ? [{ name: `probe matrix ${label}`, text: formatProbeReport(last), type: ContentType.TEXT }, { name: `probe matrix ${label} (json)`, text: JSON.stringify(last, null, 2), type: ContentType.JSON }] : [];
}

/** What each drill phase shows in Allure. */
function phaseAttachments(d: DrillJournal, step: DrillJournal['steps'][number]): Attachment[] {
  const text = (name: string, t: string): Attachment => ({ name, text: t, type: ContentType.TEXT });
  switch (step.name) {
    case 'steady-state':
      return probeAttachments(d.probes, step.startedAt, step.endedAt, 'before');
    case 'inject':
      return [text('injected', resultLines(d.injected))];
    case 'symptom':
      return probeAttachments(d.probes, step.startedAt, step.endedAt, 'during');
    case 'detect':
      return [text('findings', formatFindings(d.findings.detected)), { name: 'findings (json)', text: JSON.stringify(d.findings.detected, null, 2), type: ContentType.JSON }];
    case 'repair':
      return [text(`repair by ${d.repairer}: plan and output`, resultLines(d.repair))];
    case 'verify':
      return [...probeAttachments(d.probes, step.startedAt, step.endedAt, 'after'), ...(d.findings.remaining.length ? [text('findings remaining', formatFindings(d.findings.remaining))] : [])];
    case 'restore':
      return [text('restored', resultLines(d.restore))];
  }
}

const status = (d: DrillJournal) => (d.verdict === 'recovered' ? Status.PASSED : d.verdict === 'error' ? Status.BROKEN : Status.FAILED);

/**
 * The one mapping of a drill to Allure, shared by both doors (`firedrill report --allure` and the drill
 * tests under allure-vitest): its labels (scenario, backend, target, repairer) and parameters, then its
 * phases as steps, timed as they ran, with their probe matrices, findings, repair plan and output
 * attached, as the runtime messages a test sends while it runs.
 */
export function drillAllureMessages(d: DrillJournal): RuntimeMessage[] {
  const messages: RuntimeMessage[] = [{
    type: 'metadata',
    data: {
      labels: [
        { name: 'scenario', value: d.scenario },
        { name: 'backend', value: d.backend },
        { name: 'target', value: d.target },
        { name: 'repairer', value: d.repairer },
      ],
      parameters: [
        { name: 'repeat', value: String(d.repeat) },
        { name: 'MTTD', value: d.detection?.mttdMs === undefined ? '-' : `${d.detection.mttdMs} ms` },
        { name: 'MTTR', value: d.recovery?.mttrMs === undefined ? '-' : `${d.recovery.mttrMs} ms` },
      ],
    },
  }];
  for (const step of d.steps) {
    const stop = Date.parse(step.endedAt);
    messages.push({ type: 'step_start', data: { name: `${step.name}${step.detail ? `: ${step.detail}` : ''}`, start: Date.parse(step.startedAt) } });
    for (const a of phaseAttachments(d, step)) {
      messages.push({ type: 'attachment_content', data: { name: a.name, content: Buffer.from(a.text).toString('base64'), encoding: 'base64', contentType: a.type, timestamp: stop } });
    }
    messages.push({ type: 'step_stop', data: { stop, status: step.ok ? Status.PASSED : Status.FAILED } });
  }
  return messages;
}

/** Allure results for a journal: a test per drill (per repeat), as drillAllureMessages maps it, with its verdict as status. */
export function writeAllureResults(run: RunJournal, resultsDir: string): void {
  const runtime = new ReporterRuntime({
    writer: new FileSystemWriter({ resultsDir }),
    environmentInfo: { firedrill: run.firedrill.version, kernel: run.host.kernel, host: run.host.hostname, ...Object.fromEntries(Object.entries(run.components).map(([c, v]) => [`component.${c}`, v])) },
  });
  const repeated = run.repeat > 1;
  for (const d of run.drills) {
    const start = Date.parse(d.startedAt);
    const uuid = runtime.startTest({
      name: `${drillName(d, repeated)}: ${d.title}`,
      fullName: `firedrill.${d.backend}.${d.repairer}.${d.scenario}#${d.repeat}`,
      historyId: `${d.backend}/${d.repairer}/${d.scenario}`,
      testCaseId: d.scenario,
      start,
      labels: [
        { name: 'parentSuite', value: d.backend },
        { name: 'suite', value: d.repairer },
        { name: 'subSuite', value: d.scenario },
        { name: 'host', value: run.host.hostname },
      ],
    });
    runtime.applyRuntimeMessages(uuid, drillAllureMessages(d));
    runtime.updateTest(uuid, (t) => {
      t.status = status(d);
      if (d.verdict !== 'recovered') {
        t.statusDetails = { message: `${d.verdict}: ${failureReason(d)}`, trace: d.findings.remaining.length ? formatFindings(d.findings.remaining) : 'no findings remaining' };
      }
    });
    runtime.stopTest(uuid, { stop: d.endedAt ? Date.parse(d.endedAt) : start });
    runtime.writeTest(uuid);
  }
  runtime.writeEnvironmentInfo();
}
