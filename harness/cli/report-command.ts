import { dirname } from 'node:path';
import { ExitCode, usageError } from '../errors.js';
import { journalJsonSchema } from '../report/journal.js';
import { readRunJournal } from '../report/run-journal.js';
import { formatStats, formatSummary } from '../report/summary.js';
import { writeReports } from '../report/write-reports.js';

export interface ReportFlags {
  out?: string;
  junit?: boolean;
  allure?: boolean;
  html?: boolean;
  timeline?: boolean;
  schema?: boolean;
}

/** Every report from a saved journal alone: reporters read nothing else, so last night's CI journal renders on a laptop. */
export async function reportCommand(journalFile: string | undefined, flags: ReportFlags): Promise<number> {
  if (flags.schema) {
    process.stdout.write(`${JSON.stringify(journalJsonSchema(), null, 2)}\n`);
    return ExitCode.ok;
  }
  if (!journalFile) throw usageError('firedrill report needs a journal', 'e.g. firedrill report out/journal.json (written by firedrill run --report out or --journal FILE)');
  const run = await readRunJournal(journalFile);
  const chosen = flags.junit || flags.allure || flags.html || flags.timeline;
  const all = { junit: true, allure: true, timeline: true };
  const written = await writeReports(run, flags.out ?? dirname(journalFile), chosen ? { junit: !!flags.junit, allure: !!flags.allure, html: !!flags.html, timeline: !!flags.timeline } : all);
  const stats = formatStats(run.scenarios, run.drills);
  process.stdout.write(`${formatSummary(run.drills)}${stats ? `\n\n${stats}` : ''}\nreports: ${written.join(', ')}\n`);
  return ExitCode.ok;
}
