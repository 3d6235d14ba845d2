import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageInfo } from '../../harness/package-info.js';
import { type Validation } from '../../harness/validate/validate.js';
import { type Finding } from '../../src/findings.js';
import { run } from '../../src/exec.js';
import { firedrill, labUnavailable, suiteLab } from '../support/lab.js';

// inject/restore and validate with a scenario file, on a lab of their own (sfi).
const unavailable = await labUnavailable();
const LAB = 'sfi';
const lab = suiteLab(LAB, unavailable);
const EXAMPLE = join(packageInfo().root, 'examples', 'scenarios', 'flannel-mtu.yaml');
const RUNBOOK = 'description: flannel.1 back to the MTU flannel gave it\nsteps:\n  - kind: exec\n    node: faulted\n    argv: [ip, link, set, flannel.1, mtu, "1450"]\n    why: the MTU of subnet.env\n';

const mtus = async (node: string) => {
  const links = JSON.parse((await run(['ip', '-n', `${LAB}-${node}`, '-j', 'link', 'show'])).stdout) as { ifname: string; mtu: number }[];
  return Object.fromEntries(links.filter((l) => l.ifname === 'eth0' || l.ifname === 'flannel.1').map((l) => [l.ifname, l.mtu]));
};
const STEADY = { eth0: 1500, 'flannel.1': 1450 };

describe.skipIf(unavailable)(`inject, restore and validate with --scenario-file on a lab (${unavailable ?? 'root and components present'})`, () => {
  it('inject --scenario-file: doctor finds it; restore refuses while the file differs from what was injected, then brings the lab back to steady state', { timeout: 240_000 }, async () => {
    const path = join(lab.scratch, 'flannel-mtu.yaml');
    await copyFile(EXAMPLE, path);
    const inj = await firedrill(['inject', '--scenario-file', path, '--name', LAB]);
    expect(inj.exitCode, inj.stderr).toBe(0);
    expect(inj.stdout).toContain(`injected flannel-mtu on ${LAB}-worker`);
    expect(await mtus('worker')).toEqual({ eth0: 9000, 'flannel.1': 8950 });

    const doctor = await firedrill(['doctor', '--name', LAB, '--json']);
    const { findings } = JSON.parse(doctor.stdout) as { findings: Finding[] };
    expect(findings).toContainEqual(expect.objectContaining({ kind: 'vxlan-device-misconfigured', node: `${LAB}-worker` }));

    const text = await readFile(path, 'utf8');
    await writeFile(path, text.replace('"1500"', '"1400"'));
    const refused = await firedrill(['restore', '--name', LAB]);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain(`scenario file ${path} changed since it was injected`);
    expect(refused.stderr).toContain('put the file back as it was when injected');
    // Nothing was undone, and the injection is still recorded.
    expect(await mtus('worker')).toEqual({ eth0: 9000, 'flannel.1': 8950 });

    await writeFile(path, text);
    const restore = await firedrill(['restore', '--name', LAB]);
    expect(restore.exitCode, `${restore.stdout}\n${restore.stderr}`).toBe(0);
    expect(restore.stdout).toContain(`restoring flannel-mtu (${path}) on ${LAB}-worker`);
    expect(restore.stdout).toContain('steady state: no findings');
    expect(await mtus('worker')).toEqual(STEADY);
    expect((await firedrill(['restore', '--name', LAB])).stdout).toContain('nothing injected by firedrill inject');
  });

  it('validate --scenario-file: a runbook that sets flannel.1 back passes, and the lab is restored', { timeout: 240_000 }, async () => {
    const runbook = join(lab.scratch, 'mtu-runbook.yaml');
    await writeFile(runbook, RUNBOOK);
    const r = await firedrill(['validate', runbook, '--scenario-file', EXAMPLE, '--name', LAB, '--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    const v = JSON.parse(r.stdout) as Validation;
    expect(v).toMatchObject({ scenario: 'flannel-mtu', target: `${LAB}-worker`, ok: true, symptom: { seen: true }, service: { recovered: true }, unrepaired: [], collateral: [], cleanup: 'back at steady state' });
    expect(v.steps.map((s) => [s.call, s.ok])).toEqual([[expect.stringContaining('ip link set flannel.1 mtu 1450'), true]]);
    expect(r.stderr).toContain(`using the running lab cluster ${LAB}`);
    expect(await mtus('worker')).toEqual(STEADY);
  });
});
