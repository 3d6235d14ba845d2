import { type Finding } from '../../src/findings.js';
import { describeStep, type RepairPlan, type StepResult } from '../../src/repairs/plan.js';

export function formatFindings(findings: Finding[]): string {
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

export function formatResults(steps: StepResult[]): string {
  return steps.map((r) => `  ${r.ok ? 'ok  ' : 'FAIL'} ${describeStep(r.step)} (${r.durationMs} ms)${r.error ? `: ${r.error.split('\n')[0]}` : ''}`).join('\n');
}

function short(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}
