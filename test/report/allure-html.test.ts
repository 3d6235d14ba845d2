import { access, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunJournal } from '../../harness/report/journal.js';
import { writeReports } from '../../harness/report/write-reports.js';

// The Allure HTML report of a real 18-drill lab journal, opened in a real headless browser.
const CHROMIUM = '/usr/bin/chromium';
const unavailable = await access(CHROMIUM).then(() => undefined, () => `needs Debian's chromium at ${CHROMIUM} (ci/setup installs it)`);
const scenarios = ['cni0-deleted', 'ip-forward-off', 'wrong-vtep-mac', 'vxlan-blocked', 'forward-reject', 'dns-unreachable-node'];
let out: string;

beforeAll(async () => {
  out = await mkdtemp(join(tmpdir(), 'firedrill-html-'));
});
afterAll(async () => {
  await rm(out, { recursive: true, force: true });
});

describe.skipIf(unavailable)(`the Allure HTML report in headless Chromium (${unavailable ?? 'chromium present'})`, () => {
  it('loads from the file system without console errors or outside requests and shows the six scenarios with their status', { timeout: 180_000 }, async () => {
    const journal = RunJournal.parse(JSON.parse(await readFile(new URL('fixtures/lab-run.json', import.meta.url), 'utf8')));
    journal.drills[4]!.verdict = 'not-recovered';
    const written = await writeReports(journal, out, { html: true });
    const index = join(out, 'allure-report', 'index.html');
    expect(written).toContain(index);

    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      const problems: string[] = [];
      page.on('console', (m) => void (m.type() === 'error' && problems.push(m.text())));
      page.on('pageerror', (e) => problems.push(String(e)));
      page.on('request', (r) => void (!/^(file|data|blob):/.test(r.url()) && problems.push(`request to ${r.url()}`)));
      await page.goto(`file://${index}#suites`, { waitUntil: 'networkidle' });
      // suites: backend › repairer › scenario; open them all
      await page.getByText('lab', { exact: true }).first().click();
      await page.getByText('the library', { exact: true }).first().click();
      for (const s of scenarios) await expect(page.getByText(s, { exact: true }).first().isVisible()).resolves.toBe(true);
      await page.getByText('forward-reject', { exact: true }).first().click();
      await page.getByText(/^forward-reject #1: /).first().click();
      await page.getByText('Failed', { exact: true }).first().waitFor();
      const text = await page.innerText('body');
      expect(text).toContain('forward-reject #3: ');
      expect(text).toMatch(/^not-recovered: /m);
      expect(text).toContain('detect: forward-blocked on rep-worker: MTTD');
      expect(problems).toEqual([]);
      const summary = JSON.parse(await readFile(join(out, 'allure-report', 'summary.json'), 'utf8')) as { stats: Record<string, number> };
      expect(summary.stats).toMatchObject({ total: 18, passed: 17, failed: 1 });
    } finally {
      await browser.close();
    }
  });
});
