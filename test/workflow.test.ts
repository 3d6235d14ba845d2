import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { run } from '../src/exec.js';
import { packageInfo } from '../harness/package-info.js';

const ACTIONLINT = 'github.com/rhysd/actionlint/cmd/actionlint@v1.7.12';
const hasGo = await run(['go', 'version'], { check: false }).then((r) => r.exitCode === 0, () => false);
const root = packageInfo().root;

describe('the nightly GitHub workflow', () => {
  it.skipIf(!hasGo)(`passes actionlint (${hasGo ? ACTIONLINT : 'needs Go to build actionlint'})`, { timeout: 300_000 }, async () => {
    const r = await run(['go', 'run', ACTIONLINT, '-no-color', '.github/workflows/nightly.yml'], { cwd: root, check: false, env: { GOFLAGS: '-mod=mod' }, timeoutMs: 280_000 });
    // Findings go to stdout; stderr carries go's download lines on a cold module cache.
    expect(r.stdout, 'actionlint findings').toBe('');
    expect(r.exitCode, r.stderr).toBe(0);
  });

  it('takes every version from the component manifest, and drills kind with the library and the manual runbooks', async () => {
    const text = await readFile(`${root}/.github/workflows/nightly.yml`, 'utf8');
    // One source of truth: no Kubernetes, kind or flannel version written into the workflow.
    expect(text).not.toMatch(/kindest\/node|v1\.36|v0\.32|v0\.28/);
    expect(text).toContain("hashFiles('harness/components.json')");
    expect(text).toMatch(/ci\/nightly\.mjs --backend kind --pull/);
    expect(text).toMatch(/workflow_dispatch:/);
    expect(text).toMatch(/schedule:/);
    expect(text).toMatch(/timeout-minutes: \d+/);
    expect(text).toMatch(/concurrency:/);
    expect(text).toMatch(/if: always\(\)\n\s+run: .*firedrill prune/);
    const nightly = await readFile(`${root}/ci/nightly.mjs`, 'utf8');
    expect(nightly).toContain("'--runbook', 'manual'");
  });
});
