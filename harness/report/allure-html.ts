import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from '../../src/exec.js';
import { failure } from '../errors.js';

/**
 * The Allure report from Allure results, offline, with the `allure` (Allure 3) package's own CLI: one
 * self-contained index.html (it opens from the file system; a multi-file report needs a web server),
 * without the analytics script the report would otherwise load from the internet.
 */
export async function generateAllureHtml(resultsDir: string, outDir: string, name: string): Promise<void> {
  const cli = join(dirname(dirname(fileURLToPath(import.meta.resolve('allure')))), 'cli.js');
  const scratch = await mkdtemp(join(tmpdir(), 'firedrill-allure-'));
  try {
    const config = join(scratch, 'allurerc.json');
    await writeFile(config, JSON.stringify({ name, plugins: { allure2: { options: { singleFile: true, reportName: name } } } }));
    const r = await run([process.execPath, cli, 'generate', resultsDir, '--output', outDir, '--config', config], { check: false, cwd: scratch, env: { ALLURE_NO_ANALYTICS: 'true' }, timeoutMs: 300_000 });
    if (r.exitCode !== 0) throw failure(`allure generate ${resultsDir} failed (exit ${r.exitCode}): ${(r.stderr || r.stdout).trim().split('\n').slice(-5).join('\n')}`, 'the Allure results are still there: render them with another Allure (allure serve DIR)');
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
