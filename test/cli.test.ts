import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageInfo } from '../harness/package-info.js';
import { firedrill as cli } from './support/lab.js';

// The CLI as a user runs it: the compiled bin (npm test builds it first).
const firedrill = (...args: string[]) => cli(args, { FIREDRILL_CACHE: cache });
let cache: string;

beforeAll(async () => {
  cache = await mkdtemp(join(tmpdir(), 'firedrill-cli-test-'));
});
afterAll(async () => {
  await rm(cache, { recursive: true, force: true });
});

describe('firedrill CLI', () => {
  it('prints its version', async () => {
    const r = await firedrill('--version');
    expect(r.exitCode).toBe(0);
    expect(r.stdout.trim()).toBe(packageInfo().version);
  });

  it('lists every command with one line in --help, and the exit codes', async () => {
    const r = await firedrill('--help');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^\s+setup \[options\]\s+build or download/m);
    expect(r.stdout).toContain('Exit codes: 0 ok, 1');
  });

  it('rejects an unknown command with exit 2 and a suggestion', async () => {
    const r = await firedrill('sutep');
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("unknown command 'sutep'");
    expect(r.stderr).toContain('Did you mean setup?');
  });

  it('rejects an unknown option with exit 2', async () => {
    const r = await firedrill('setup', '--chek');
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("unknown option '--chek'");
  });

  it('rejects a bad --from value with exit 2', async () => {
    const r = await firedrill('setup', '--from', 'ftp');
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('--from must be auto, build or download (got "ftp")');
  });

  it('rejects an unknown component with exit 2 and the known ones', async () => {
    const r = await firedrill('setup', '--only', 'kubelet');
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('unknown component kubelet');
    expect(r.stderr).toContain('known components: cni-plugins');
  });

  it('setup --check on an empty cache lists every component as missing and exits 1', async () => {
    const r = await firedrill('setup', '--check', '--json');
    expect(r.exitCode).toBe(1);
    const report = JSON.parse(r.stdout) as { components: { component: string; state: string }[] };
    expect(report.components.map((c) => c.component)).toContain('kubernetes');
    expect(report.components.every((c) => c.state === 'missing')).toBe(true);
  });
});
