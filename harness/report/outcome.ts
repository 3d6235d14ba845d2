import { type DrillJournal } from './journal.js';

/** Why a drill did not recover, in one line: its error, else the first step that failed. */
export function failureReason(d: DrillJournal): string {
  if (d.error) return d.error;
  const failed = d.steps.find((s) => !s.ok);
  return failed ? `${failed.name}: ${failed.detail ?? 'failed'}` : d.verdict;
}

/** A drill's name in reports: the scenario, and its pass when the run repeated. */
export const drillName = (d: DrillJournal, repeated: boolean) => (repeated ? `${d.scenario} #${d.repeat}` : d.scenario);
