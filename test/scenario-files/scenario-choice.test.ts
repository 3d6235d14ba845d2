import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadScenarioFile, reloadScenarioFile } from '../../harness/scenario-files/load.js';
import { packageInfo } from '../../harness/package-info.js';
import { firedrill } from '../support/lab.js';

// inject and validate with --scenario-file, without a cluster: what is refused before one is touched.
const EXAMPLE = join(packageInfo().root, 'examples', 'scenarios', 'flannel-mtu.yaml');
let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'firedrill-scenario-choice-'));
});
afterAll(() => rm(scratch, { recursive: true, force: true }));

describe('inject and validate: a scenario by name or a file, not both', () => {
  it.each([
    [['inject', 'ip-forward-off', '--scenario-file', EXAMPLE, '--name', 'sfnone'], `inject: SCENARIO (ip-forward-off) and --scenario-file (${EXAMPLE}) both name the scenario: give one of them`],
    [['inject', '--name', 'sfnone'], 'inject needs SCENARIO or --scenario-file FILE'],
    [['inject', 'nope', '--name', 'sfnone'], 'unknown scenario "nope"'],
    [['inject', '--scenario-file', '/nonexistent/scenario.yaml', '--name', 'sfnone'], 'cannot read scenario file /nonexistent/scenario.yaml'],
    [['validate', '/nonexistent.yaml', '--scenario', 'ip-forward-off', '--scenario-file', EXAMPLE, '--name', 'sfnone'], 'validate: --scenario (ip-forward-off) and --scenario-file'],
    [['validate', '/nonexistent.yaml', '--name', 'sfnone'], 'validate needs --scenario or --scenario-file FILE'],
    [['validate', '/nonexistent.yaml', '--scenario-file', '/nonexistent/scenario.yaml', '--name', 'sfnone'], 'cannot read scenario file /nonexistent/scenario.yaml'],
  ])('%j exits 2: %s', async (args, message) => {
    const r = await firedrill(args);
    expect([r.exitCode, r.stderr]).toEqual([2, expect.stringContaining(message)]);
    // Refused before any cluster was looked for.
    expect(r.stderr).not.toContain('sfnone');
  });

  it('a file loaded again is refused once its text changed, with what to do', async () => {
    const path = join(scratch, 'mtu.yaml');
    const text = await readFile(EXAMPLE, 'utf8');
    await writeFile(path, text);
    const { scenario, source } = await loadScenarioFile(path, () => undefined);
    expect(source).toEqual({ path, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect((await reloadScenarioFile(source, 'put it back')).id).toBe(scenario.id);
    await writeFile(path, `${text}# one comment more\n`);
    await expect(reloadScenarioFile(source, 'put it back')).rejects.toMatchObject({ message: expect.stringContaining(`scenario file ${path} changed since it was injected`), hint: 'put it back' });
    await rm(path);
    await expect(reloadScenarioFile(source, 'put it back')).rejects.toMatchObject({ message: expect.stringContaining(`scenario file ${path} cannot be loaded again: cannot read scenario file`) });
  });
});
