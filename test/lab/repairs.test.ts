import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { beforeAll, describe, expect, it } from 'vitest';
import { LAB_LABEL } from '../../harness/backends/lab/processes.js';
import { diagnose, repairCluster } from '../../src/doctor.js';
import { observeNode } from '../../src/observe/node.js';
import { probeCluster } from '../../src/probes/probe.js';
import { failedDns, failedPings } from '../../src/probes/types.js';
import { applyPlan } from '../../src/repairs/apply.js';
import { execStep } from '../../src/repairs/plan.js';
import { planRepairs } from '../../src/repairs/planner.js';
import { firedrill, labUnavailable, libraryLab } from '../support/lab.js';

// Repairs judged by the state they leave, on a real lab: faults made by hand, as a new user would.
// Needs root and `firedrill setup`.
const LAB = 'fdr';
const unavailable = await labUnavailable();
const lab = libraryLab(LAB, unavailable);

const onNode = (node: string, ...argv: string[]) => lab.cluster.access.node(node).exec(argv);
const observe = (node: string) => observeNode(node, lab.cluster.access.node(node), lab.cluster.access.nodeFiles(node));
const vtepMac = async (node: string) => (await observe(node)).links.find((l) => l.ifname === 'flannel.1')!.address!;
const flannelFdb = async (node: string) => (await observe(node)).fdb.filter((e) => e.ifname === 'flannel.1').map((e) => ({ mac: e.mac, dst: e.dst, state: e.state }));

async function expectGreen() {
  const report = await probeCluster(lab.kube, lab.cluster.access);
  expect(failedPings(report)).toEqual([]);
  expect(failedDns(report)).toEqual([]);
}

describe.skipIf(unavailable)(`repairs judged by state (${unavailable ?? 'root and components present'})`, () => {
  let target: { name: string; ip: string };
  let peer: string;

  beforeAll(async () => {
    // A worker that does not hold every DNS endpoint: cutting it off must not call for moving DNS.
    const dnsNodes = (await diagnose(lab.kube, lab.cluster.access, { probe: false })).observation.dnsEndpoints.flatMap((s) => s.endpoints ?? []).map((e) => e.nodeName);
    target = lab.cluster.nodes.find((n) => n.role !== 'control-plane' && !dnsNodes.every((d) => d === n.name))!;
    peer = lab.cluster.nodes.find((n) => n.name !== target.name)!.name;
  }, 300_000);

  it("puts back a peer's FDB entry given a wrong dst by hand, as flanneld writes it, and the probe matrix is green", async () => {
    const mac = await vtepMac(target.name);
    await onNode(peer, 'bridge', 'fdb', 'replace', mac, 'dev', 'flannel.1', 'dst', '172.18.0.99', 'self', 'permanent');
    const before = await diagnose(lab.kube, lab.cluster.access);
    expect(before.findings.map((f) => `${f.kind}@${f.node}`)).toContain(`vxlan-fdb-missing@${peer}`);

    const outcome = await repairCluster(lab.kube, lab.cluster.access, { from: before });
    const fix = outcome.rounds[0]!.results.find((r) => r.plan.repair === 'fix-vxlan-peer')!;
    expect(fix.steps.map((s) => s.step.kind === 'exec' && s.step.argv.slice(0, 3).join(' '))).toEqual(['bridge fdb replace']);
    expect(fix).toMatchObject({ outcome: 'repaired', unmet: [] });
    expect(outcome.unrepaired).toEqual([]);
    expect(outcome.remaining).toEqual([]);
    expect((await flannelFdb(peer)).filter((e) => e.mac === mac)).toEqual([{ mac, dst: target.ip, state: 'permanent' }]);
    await expectGreen();
  });

  it("deletes an FDB entry with another MAC for a node's address, and programs the real one", async () => {
    const mac = await vtepMac(target.name);
    await onNode(peer, 'bridge', 'fdb', 'del', mac, 'dev', 'flannel.1', 'dst', target.ip, 'self');
    await onNode(peer, 'bridge', 'fdb', 'add', '02:00:00:00:0b:ad', 'dev', 'flannel.1', 'dst', target.ip, 'self', 'permanent');

    const outcome = await repairCluster(lab.kube, lab.cluster.access);
    expect(outcome.rounds[0]!.results.map((r) => [r.plan.repair, r.outcome])).toEqual([['fix-vxlan-peer', 'repaired']]);
    expect(outcome.unrepaired).toEqual([]);
    expect(outcome.remaining).toEqual([]);
    expect((await flannelFdb(peer)).filter((e) => e.dst === target.ip)).toEqual([{ mac, dst: target.ip, state: 'permanent' }]);
    await expectGreen();
  });

  it('reports a plan whose steps succeed but change nothing as having no effect, with the value it observed', async () => {
    await onNode(target.name, 'sysctl', '-w', 'net.ipv4.ip_forward=0');
    const { findings, observation } = await diagnose(lab.kube, lab.cluster.access, { probe: false });
    const plan = (await planRepairs(findings, observation, lab.cluster.access)).find((p) => p.repair === 'enable-ip-forward')!;
    expect(plan.postcondition).toEqual([{ kind: 'sysctl', node: target.name, key: 'net.ipv4.ip_forward', value: '1' }]);

    const { result } = await applyPlan({ ...plan, steps: [execStep(target.name, ['true'], 'exits 0, changes nothing')] }, lab.kube, lab.cluster.access);
    expect(result.steps.map((s) => s.ok)).toEqual([true]);
    expect(result).toMatchObject({ outcome: 'no-effect', unmet: [{ expected: plan.postcondition[0], observed: '0' }] });

    const outcome = await repairCluster(lab.kube, lab.cluster.access);
    expect(outcome.unrepaired).toEqual([]);
    expect(outcome.remaining).toEqual([]);
  });

  it('does not apply again a plan that had no effect, and doctor --repair says what it could not repair and exits 1', { timeout: 120_000 }, async () => {
    // Something on the node keeps turning forwarding off (as a config agent would): the library's sysctl exits 0 and changes nothing.
    const resetter = spawn(
      'ip',
      ['netns', 'exec', target.name, process.execPath, '-e', "setInterval(() => require('node:fs').writeFileSync('/proc/sys/net/ipv4/ip_forward', '0'), 2)"],
      { env: { ...process.env, [LAB_LABEL]: LAB }, stdio: 'ignore' },
    );
    try {
      // A node process takes a while to start on a busy 2-core machine.
      await expect.poll(async () => (await observe(target.name)).sysctls['net.ipv4.ip_forward'], { timeout: 20_000 }).toBe('0');

      const outcome = await repairCluster(lab.kube, lab.cluster.access, { probe: false });
      const applied = outcome.rounds.flatMap((r) => r.plans).filter((p) => p.repair === 'enable-ip-forward');
      expect(applied).toHaveLength(1);
      expect(outcome.rounds.at(-1)!.skipped.map((p) => p.repair)).toEqual(['enable-ip-forward']);
      expect(outcome.unrepaired).toMatchObject([{ outcome: 'no-effect', unmet: [{ observed: '0' }], plan: { repair: 'enable-ip-forward', node: target.name } }]);

      const doctor = await firedrill(['doctor', '--name', LAB, '--repair']);
      expect(doctor.exitCode, doctor.stdout + doctor.stderr).toBe(1);
      expect(doctor.stdout.match(/^plan enable-ip-forward/gm)).toHaveLength(1);
      expect(doctor.stdout).toContain(`FAILED enable-ip-forward [${target.name}]: no effect`);
      expect(doctor.stdout).toContain(`expected ${target.name}: net.ipv4.ip_forward = 1; observed "0"`);
      expect(doctor.stdout).toMatch(/could not repair \(not applied again\):\nFAILED enable-ip-forward/);
    } finally {
      resetter.kill();
      if (resetter.exitCode === null && resetter.signalCode === null) await once(resetter, 'exit');
    }
    const outcome = await repairCluster(lab.kube, lab.cluster.access);
    expect(outcome.unrepaired).toEqual([]);
    expect(outcome.remaining).toEqual([]);
  });
});
