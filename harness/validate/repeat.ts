import { spread } from '../report/stats.js';
import { type ScenarioStats } from '../report/journal.js';
import { spread as formatSpread } from '../report/summary.js';
import { type Validation } from './validate.js';

/** One runbook validated --repeat times: how often it passed, how fast the service came back, and whether it is flaky. */
export interface ValidationStats {
  runs: number;
  passed: number;
  status: 'passed' | 'failed' | 'flaky';
  /** The repeats (from 1) that failed, each with why. */
  failing: { repeat: number; why: string }[];
  /** From the fault to the service back, over the repeats where it came back. */
  recoveryMs?: ScenarioStats['mttrMs'];
  /** The runbook's own run time (its steps), over every repeat that ran it. */
  runbookMs?: ScenarioStats['mttrMs'];
}

/** Why one validation failed, in a few words. */
export function failureReason(v: Validation): string {
  if (v.error) return `error: ${v.error.split('\n')[0]}`;
  const step = v.steps.find((s) => !s.ok);
  if (step) return `step ${step.index + 1} failed: ${step.error?.split('\n')[0] ?? step.call}`;
  if (!v.service.recovered) return 'service not recovered';
  if (v.unrepaired.length) return `fault not repaired (${v.unrepaired.length} finding(s) left)`;
  if (v.collateral.length) return `collateral damage: ${v.collateral[0]!.detail}${v.collateral.length > 1 ? ` and ${v.collateral.length - 1} more` : ''}`;
  return 'failed';
}

export function validationStats(vs: readonly Validation[]): ValidationStats {
  const failing = vs.flatMap((v, i) => (v.ok ? [] : [{ repeat: i + 1, why: failureReason(v) }]));
  const passed = vs.length - failing.length;
  const recovery = spread(vs.flatMap((v) => (v.service.recovered && v.service.afterFaultMs !== undefined ? [v.service.afterFaultMs] : [])));
  const runbook = spread(vs.filter((v) => v.steps.length).map((v) => v.steps.reduce((sum, s) => sum + s.durationMs, 0)));
  return {
    runs: vs.length,
    passed,
    status: !failing.length ? 'passed' : passed ? 'flaky' : 'failed',
    failing,
    ...(recovery ? { recoveryMs: recovery } : {}),
    ...(runbook ? { runbookMs: runbook } : {}),
  };
}

export function formatValidationStats(s: ValidationStats): string {
  return [
    `over ${s.runs} validations: ${s.status.toUpperCase()}, passed ${s.passed}/${s.runs}`,
    `  service back after the fault (p50 / p95 / max): ${formatSpread(s.recoveryMs)}${s.recoveryMs && s.recoveryMs.n < s.runs ? ` (in ${s.recoveryMs.n} of ${s.runs})` : ''}`,
    `  runbook run time (p50 / p95 / max): ${formatSpread(s.runbookMs)}`,
    ...s.failing.map((f) => `  #${f.repeat} failed: ${f.why}`),
  ].join('\n');
}
