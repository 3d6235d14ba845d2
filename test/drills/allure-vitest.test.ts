import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../../src/exec.js';

interface Step { name: string; status: string; start: number; stop: number; attachments: { name: string; source: string }[] }
interface Result { name: string; status: string; labels: { name: string; value: string }[]; parameters: { name: string; value: string }[]; steps: Step[] }

// The drill tests record each drill under allure-vitest (test/support/allure-drill.ts): here a vitest of
// their kind runs on recorded drills, and its allure-results must show the drills' phases and labels.
describe('drills in the vitest Allure results', () => {
  it('each drill test carries its phases as timed steps with their attachments, and its labels', { timeout: 60_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'firedrill-allure-vitest-'));
    try {
      const child = await run([process.execPath, 'node_modules/vitest/vitest.mjs', 'run', '--config', 'test/drills/fixtures/allure.vitest.config.ts'], { env: { FIREDRILL_ALLURE_RESULTS: dir, CI: 'true' }, check: false });
      // The second repeat did not recover: its test fails, and so does that vitest.
      expect(child.exitCode, child.stdout + child.stderr).toBe(1);
      const files = (await readdir(dir)).filter((f) => f.endsWith('-result.json'));
      const results = await Promise.all(files.map(async (f) => JSON.parse(await readFile(join(dir, f), 'utf8')) as Result));
      expect(results.map((r) => [r.name, r.status]).sort()).toEqual([['vxlan-blocked #1 recovers', 'passed'], ['vxlan-blocked #2 recovers', 'failed'], ['vxlan-blocked #3 recovers', 'passed']]);
      const failed = results.find((r) => r.name.startsWith('vxlan-blocked #2'))!;
      expect(Object.fromEntries(failed.labels.map((l) => [l.name, l.value]))).toMatchObject({ scenario: 'vxlan-blocked', backend: 'lab', target: 'rep-worker', repairer: 'the library', framework: 'vitest' });
      expect(failed.parameters).toEqual(expect.arrayContaining([{ name: 'repeat', value: '2' }, { name: 'MTTD', value: '600 ms' }, { name: 'MTTR', value: '-' }]));
      // The drill's phases, then the test's own assertions (allure-vitest records each as a step).
      expect(failed.steps.map((s) => [s.name.split(':')[0], s.status])).toEqual([
        ['steady-state', 'passed'], ['inject', 'passed'], ['symptom', 'passed'], ['detect', 'passed'], ['repair', 'passed'], ['verify', 'failed'], ['restore', 'passed'],
        ['expect("not-recovered").toBe("recovered")', 'failed'],
      ]);
      const step = (name: string) => failed.steps.find((s) => s.name.startsWith(name))!;
      // Timed as the drill ran, not as the test recorded it.
      expect([step('detect').start, step('detect').stop - step('detect').start]).toEqual([Date.parse('2026-11-28T07:00:01Z'), 600]);
      expect(step('symptom').attachments.map((a) => a.name)).toEqual(['probe matrix during', 'probe matrix during (json)']);
      expect(step('detect').attachments.map((a) => a.name)).toEqual(['findings', 'findings (json)']);
      expect(await readFile(join(dir, step('detect').attachments[0]!.source), 'utf8')).toContain('CRITICAL vxlan-blocked [rep-worker]: UDP 8472 is dropped on rep-worker');
      expect(await readFile(join(dir, step('repair').attachments[0]!.source), 'utf8')).toContain('FAIL rep-worker: iptables -D INPUT 1 (15 ms): exit 1: Bad rule');
      expect(step('verify').attachments.map((a) => a.name)).toContain('findings remaining');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
