import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Validation } from '../../harness/validate/validate.js';
import { firedrill, labUnavailable, suiteLab } from '../support/lab.js';

// `firedrill validate` on a lab of its own (rb), kept between the tests: each validation restores it.
const unavailable = await labUnavailable();
const LAB = 'rb';
const lab = suiteLab(LAB, unavailable);

async function shown(scenario: string, variant: string) {
  const r = await firedrill(['runbook', 'show', scenario, '--variant', variant]);
  expect(r.exitCode, r.stderr).toBe(0);
  const path = join(lab.scratch, `${scenario}-${variant}.yaml`);
  await writeFile(path, r.stdout);
  return path;
}
async function validate(path: string, scenario: string) {
  const r = await firedrill(['validate', path, '--scenario', scenario, '--name', LAB, '--json']);
  return { exitCode: r.exitCode, stderr: r.stderr, v: r.stdout ? (JSON.parse(r.stdout) as Validation) : undefined };
}

describe.skipIf(unavailable)(`firedrill validate on a lab (${unavailable ?? 'root and components present'})`, () => {
  it('--dry-run prints the exact argv per node, resolved against the cluster, and runs nothing', async () => {
    const r = await firedrill(['validate', await shown('wrong-vtep-mac', 'naive'), '--scenario', 'wrong-vtep-mac', '--name', LAB, '--dry-run']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout.split('\n').slice(1, 7).map((l) => l.split('    #')[0])).toEqual([
      ` 1. ${LAB}-worker: rm -fr /run/firedrill/${LAB}/nodes/${LAB}-worker/var/lib/cni/flannel`,
      ` 2. ${LAB}-worker: ip link set cni0 down`,
      ` 3. ${LAB}-worker: ip link set flannel.1 down`,
      ` 4. ${LAB}-worker: ip link delete cni0`,
      ` 5. ${LAB}-worker: ip link delete flannel.1`,
      ` 6. ${LAB}-worker: restart kubelet`,
    ]);
    const manual = await firedrill(['validate', await shown('wrong-vtep-mac', 'manual'), '--scenario', 'wrong-vtep-mac', '--name', LAB, '--dry-run']);
    expect(manual.stdout).toMatch(new RegExp(`^ 2\\. ${LAB}-control-plane: bridge fdb del '<wrongMac: recorded when wrong-vtep-mac is injected>' dev flannel.1 dst 172\\.\\d+\\.\\d+\\.\\d+ self \\(may fail\\)`, 'm'));
    expect(manual.stdout).toMatch(new RegExp(`^ 2\\. ${LAB}-worker2: bridge fdb del`, 'm'));
    const doctor = await firedrill(['doctor', '--name', LAB, '--no-probe']);
    expect(doctor.exitCode, doctor.stdout).toBe(0);
  });

  it('a selector that matches no node of the cluster is refused before anything runs', async () => {
    const path = join(lab.scratch, 'typo.yaml');
    await writeFile(path, 'steps:\n  - kind: exec\n    node: rb-wroker\n    argv: ["true"]\n');
    const r = await firedrill(['validate', path, '--scenario', 'ip-forward-off', '--name', LAB, '--dry-run']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('steps.0.node: node selector "rb-wroker" matches no node of cluster rb');
  });

  it("the incident's naive runbook: exit 1, not recovered, cni0 deleted on the way", { timeout: 240_000 }, async () => {
    const { exitCode, v, stderr } = await validate(await shown('wrong-vtep-mac', 'naive'), 'wrong-vtep-mac');
    expect(exitCode, stderr).toBe(1);
    expect(v!.steps.map((s) => [s.ok, s.exitCode])).toEqual([[true, 0], [true, 0], [true, 0], [true, 0], [true, 0], [true, undefined]]);
    expect(v!.service.recovered).toBe(false);
    expect(v!.collateral.map((d) => d.detail)).toContain(`${LAB}-worker: link cni0 deleted`);
    expect(v!.collateral.map((d) => d.detail)).toContainEqual(expect.stringContaining(`cni0-missing@${LAB}-worker`));
    expect(v!.cleanup).toBe('back at steady state');
  });

  it('the manual runbook: exit 0, recovered, repaired, no collateral damage', { timeout: 240_000 }, async () => {
    const { exitCode, v, stderr } = await validate(await shown('wrong-vtep-mac', 'manual'), 'wrong-vtep-mac');
    expect(exitCode, JSON.stringify(v ?? stderr, null, 2)).toBe(0);
    expect(v).toMatchObject({ ok: true, unrepaired: [], collateral: [], service: { recovered: true } });
    expect(v!.service.afterRunbookMs).toBeGreaterThan(0);
  });

  it("seed 000's emergency fix, kubectl drain: service recovered, node not repaired, node left cordoned", { timeout: 240_000 }, async () => {
    const path = join(lab.scratch, 'drain.yaml');
    await writeFile(path, 'description: drain the faulted node\nsteps:\n  - kind: drain\n    node: faulted\n');
    const { exitCode, v, stderr } = await validate(path, 'wrong-vtep-mac');
    expect(exitCode, stderr).toBe(1);
    expect(v!.service.recovered).toBe(true);
    expect(v!.unrepaired).toContainEqual(expect.stringMatching(new RegExp(`^vtep-annotation-mismatch@${LAB}-worker: `)));
    expect(v!.collateral.map((d) => d.detail)).toContain(`node ${LAB}-worker left cordoned (unschedulable)`);
    expect(v!.cleanup).toBe('back at steady state');
  });

  it("a runbook that recreates cni0 but deletes the pods' veths: their addresses are collateral damage", { timeout: 240_000 }, async () => {
    const manual = await shown('cni0-deleted', 'manual');
    const path = join(lab.scratch, 'cni0-and-veths.yaml');
    const { readFile } = await import('node:fs/promises');
    await writeFile(path, `${await readFile(manual, 'utf8')}  - kind: exec\n    node: faulted\n    for_each: pod_veths\n    argv: [ip, link, delete, "{{item}}"]\n`);
    const { exitCode, v, stderr } = await validate(path, 'cni0-deleted');
    expect(exitCode, stderr).toBe(1);
    expect(v!.collateral.map((d) => d.detail)).toContainEqual(expect.stringMatching(/^pod firedrill\/probe-\S+ no longer has its address 10\.244\.\d+\.\d+ on its interface$/));
  });
});
