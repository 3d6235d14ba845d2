import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { firedrill } from '../support/lab.js';

// The runbook commands that need no cluster, as a user runs them.
let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'firedrill-runbook-cli-'));
});
afterAll(() => rm(scratch, { recursive: true, force: true }));

describe('firedrill runbook show | lint', () => {
  it('prints a built-in runbook as YAML that names its schema and lints clean', async () => {
    const shown = await firedrill(['runbook', 'show', 'wrong-vtep-mac', '--variant', 'naive']);
    expect(shown.exitCode, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/^# yaml-language-server: \$schema=\/.*\/schema\/runbook\.schema\.json$/m);
    expect(shown.stdout).toContain('    argv: [ rm, -fr, "{{flannel_data_dir}}" ]');
    const path = join(scratch, 'naive.yaml');
    await writeFile(path, shown.stdout);
    const lint = await firedrill(['runbook', 'lint', path]);
    expect([lint.exitCode, lint.stdout.trim(), lint.stderr]).toEqual([0, `${path}: 6 step(s), 0 warning(s)`, '']);
  });

  it('lint warns about a shell string with its line, and exits 0', async () => {
    const path = join(scratch, 'sh.yaml');
    await writeFile(path, 'steps:\n  - kind: exec\n    node: all\n    argv: [bash, -c, "ip link | grep veth"]\n');
    const r = await firedrill(['runbook', 'lint', path]);
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toContain(`warning: ${path}:4:11: steps.0.argv: runs a shell string (bash -c)`);
  });

  it.each([
    [['runbook', 'show', 'nope'], 'unknown scenario "nope"'],
    [['runbook', 'show', 'cni0-deleted', '--variant', 'naive'], 'scenario cni0-deleted has no runbook "naive"'],
    [['runbook', 'lint', '/nonexistent.yaml'], 'cannot read runbook file /nonexistent.yaml'],
    [['validate', '/nonexistent.yaml'], 'validate needs --scenario'],
    [['validate', '/nonexistent.yaml', '--scenario', 'nope'], 'unknown scenario "nope"'],
  ])('%j exits 2: %s', async (args, message) => {
    const r = await firedrill(args);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(message);
  });
});
