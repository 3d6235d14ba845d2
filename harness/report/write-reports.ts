import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type RunJournal } from './journal.js';
import { formatJUnit } from './junit.js';
import { formatTimeline } from './timeline.js';

export interface ReportChoice {
  journal?: boolean;
  junit?: boolean;
  allure?: boolean;
  /** The Allure HTML report (implies the Allure results it is built from). */
  html?: boolean;
  timeline?: boolean;
}

/** Writes the chosen reports of one journal into dir; returns the paths written. */
export async function writeReports(run: RunJournal, dir: string, choice: ReportChoice): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  const put = async (name: string, text: string) => {
    const file = join(dir, name);
    await writeFile(file, text);
    written.push(file);
  };
  if (choice.journal) await put('journal.json', `${JSON.stringify(run, null, 2)}\n`);
  if (choice.junit) await put('junit.xml', formatJUnit(run));
  if (choice.timeline) await put('timeline.svg', formatTimeline(run));
  if (choice.allure || choice.html) {
    const results = join(dir, 'allure-results');
    // A fresh directory: Allure reads every result in it, and results of an older run would mix in.
    await rm(results, { recursive: true, force: true });
    const { writeAllureResults } = await import('./allure.js');
    writeAllureResults(run, results);
    written.push(results);
    if (choice.html) {
      const html = join(dir, 'allure-report');
      const { generateAllureHtml } = await import('./allure-html.js');
      await generateAllureHtml(results, html, `firedrill ${run.startedAt}`);
      written.push(join(html, 'index.html'));
    }
  }
  return written;
}
