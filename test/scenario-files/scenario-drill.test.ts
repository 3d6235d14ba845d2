import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { labAccess } from '../../harness/backends/lab/access.js';
import { readState } from '../../harness/backends/lab/state.js';
import { packageInfo } from '../../harness/package-info.js';
import { type RunJournal } from '../../harness/report/journal.js';
import { type ValidationStats } from '../../harness/validate/repeat.js';
import { type Validation } from '../../harness/validate/validate.js';
import { connect } from '../../src/kube/client.js';
import { probeLargePackets } from '../../src/probes/large-packet.js';
import { run } from '../../src/exec.js';
import { firedrill, labUnavailable, suiteLab } from '../support/lab.js';

// A scenario file drilled end to end, and validate --repeat, on a lab of their own (scn).
const unavailable = await labUnavailable();
const LAB = 'scn';
const lab = suiteLab(LAB, unavailable);
const EXAMPLE = join(packageInfo().root, 'examples', 'scenarios', 'flannel-mtu.yaml');

const mtus = async (node: string) => {
  const links = JSON.parse((await run(['ip', '-n', `${LAB}-${node}`, '-j', 'link', 'show'])).stdout) as { ifname: string; mtu: number }[];
  return Object.fromEntries(links.filter((l) => l.ifname === 'eth0' || l.ifname === 'flannel.1').map((l) => [l.ifname, l.mtu]));
};

async function drill(args: string[]) {
  const journal = join(lab.scratch, `journal-${args.join('-').replace(/\W+/g, '_')}.json`);
  const r = await firedrill(['run', '--scenario-file', EXAMPLE, '--name', LAB, '--journal', journal, ...args]);
  return { ...r, journal: JSON.parse(await readFile(journal, 'utf8')) as RunJournal };
}

describe.skipIf(unavailable)(`scenario files and validate --repeat on a lab (${unavailable ?? 'root and components present'})`, () => {
  it('the large-packet probe: every cross-node pair of probe pods, all passing on a healthy lab', async () => {
    const state = (await readState(LAB))!;
    const results = await probeLargePackets(await connect(state.kubeconfig), labAccess(state));
    // 3 nodes, 2 probe pods each: every pod pings the 4 pods on other nodes.
    expect(results).toHaveLength(24);
    expect(results.filter((r) => !r.ok)).toEqual([]);
    expect(results.every((r) => r.sourceNode !== r.targetNode && r.bytes === 4000)).toBe(true);
  });

  it('flannel-mtu.yaml with the library: large packets fail while pings pass, vxlan-device-misconfigured found, repaired, recovered, restored', { timeout: 240_000 }, async () => {
    const { exitCode, stderr, journal } = await drill([]);
    expect(exitCode, stderr).toBe(0);
    const d = journal.drills[0]!;
    expect(d).toMatchObject({ scenario: 'flannel-mtu', target: `${LAB}-worker`, verdict: 'recovered', symptom: { seen: true }, detection: { finding: { kind: 'vxlan-device-misconfigured', node: `${LAB}-worker` } } });
    expect(d.injected.map((s) => s.ok)).toEqual([true, true]);
    expect(d.repair.map((s) => ('argv' in s.step ? s.step.argv.join(' ') : s.step.kind))).toContain('ip link set flannel.1 mtu 1450');
    expect(d.steps.find((s) => s.name === 'restore')).toMatchObject({ ok: true, detail: 'back at steady state' });
    expect(await mtus('worker')).toEqual({ eth0: 1500, 'flannel.1': 1450 });
  });

  it('flannel-mtu.yaml with nobody repairing: the large packets stay lost, so the drill is not recovered', { timeout: 240_000 }, async () => {
    const { exitCode, journal } = await drill(['--repair', 'none']);
    expect(exitCode).toBe(1);
    const d = journal.drills[0]!;
    expect(d).toMatchObject({ verdict: 'not-recovered', symptom: { seen: true } });
    // Every ping of the matrix passed all along: only the large packets tell.
    expect(d.probes.every((p) => p.ping.every((x) => x.ok))).toBe(true);
    expect(await mtus('worker')).toEqual({ eth0: 1500, 'flannel.1': 1450 });
  });

  it('validate --repeat 2: both validations, passed 2/2, time to recovery p50/p95/max', { timeout: 300_000 }, async () => {
    const shown = await firedrill(['runbook', 'show', 'ip-forward-off', '--variant', 'manual']);
    const path = join(lab.scratch, 'ip-forward-off.yaml');
    await writeFile(path, shown.stdout);
    const json = await firedrill(['validate', path, '--scenario', 'ip-forward-off', '--name', LAB, '--repeat', '2', '--json']);
    expect(json.exitCode, json.stderr).toBe(0);
    const out = JSON.parse(json.stdout) as { validations: Validation[]; stats: ValidationStats };
    expect(out.validations.map((v) => v.ok)).toEqual([true, true]);
    expect(out.stats).toMatchObject({ runs: 2, passed: 2, status: 'passed', failing: [], recoveryMs: { n: 2 }, runbookMs: { n: 2 } });
    expect(out.stats.recoveryMs!.p50).toBeLessThanOrEqual(out.stats.recoveryMs!.max);
    expect(json.stderr).toContain('[2/2]');
  });
});
