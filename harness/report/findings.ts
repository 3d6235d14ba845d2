import { describeStep, type RepairPlan } from '../../src/repairs/plan.js';
import { type JournalFinding, type JournalStepResult } from './journal.js';

export function formatFindings(findings: readonly JournalFinding[]): string {
  if (!findings.length) return 'no findings: the cluster looks healthy';
  return findings
    .map((f) => {
      const evidence = f.evidence.map((e) => `    ${e.source}: observed ${short(e.observed)}${e.expected !== undefined ? `, expected ${short(e.expected)}` : ''}`);
      return [`${f.severity === 'critical' ? 'CRITICAL' : 'warning '} ${f.kind}${f.node ? ` [${f.node}]` : ''}: ${f.summary}`, ...evidence, ...(f.repair ? [`    repair: ${f.repair}`] : [])].join('\n');
    })
    .join('\n');
}

export function formatPlan(plan: RepairPlan): string {
  return [`plan ${plan.repair}: ${plan.summary}`, ...plan.steps.map((s, i) => `  ${i + 1}. ${describeStep(s)}`)].join('\n');
}

export function formatResults(steps: readonly JournalStepResult[]): string {
  const label = (r: JournalStepResult) => (r.ok ? 'ok  ' : 'allowFailure' in r.step && r.step.allowFailure ? 'skip' : 'FAIL');
  const why = (r: JournalStepResult) => (r.ok ? '' : 'allowFailure' in r.step && r.step.allowFailure ? ': nothing to do (already gone)' : r.error ? `: ${r.error.split('\n')[0]}` : '');
  return steps.map((r) => `  ${label(r)} ${describeStep(r.step)} (${r.durationMs} ms)${why(r)}`).join('\n');
}

function short(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}
