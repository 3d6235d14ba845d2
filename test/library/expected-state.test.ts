import { describe, expect, it } from 'vitest';
import { type ClusterAccess } from '../../src/access.js';
import { runChecks } from '../../src/checks/index.js';
import { type Finding } from '../../src/findings.js';
import { type ClusterObservation } from '../../src/observe/cluster.js';
import { parseIptablesSave } from '../../src/observe/iptables.js';
import { describeStep, type Step } from '../../src/repairs/plan.js';
import { planRepairs } from '../../src/repairs/planner.js';
import { unmet } from '../../src/repairs/postcondition.js';
import { healthyLab, node } from '../support/fixtures.js';

// The expected-state diff beyond the six incidents, both ways, on copies of a real healthy lab
// snapshot: extra routes into the pod network, stray vxlan entries, flanneld's own iptables chains.
const kinds = (findings: Finding[]) => findings.map((f) => `${f.kind}@${f.node ?? '-'}`).sort();
const noAccess = {} as ClusterAccess;
/** The lines of an iptables-restore step's transaction (its stdin). */
const restoreLines = (step: Step) => (step.kind === 'exec' && step.input ? step.input.trimEnd().split('\n') : []);
// fd-worker: pods 10.244.2.0/24; peers fd-control-plane 10.244.1.0/24 (172.18.0.2) and fd-worker2 10.244.0.0/24 (172.18.0.4).

/** A node's nat or filter table replaced by iptables-save text for its chains (the others kept). */
function setChains(obs: ClusterObservation, name: string, table: 'nat' | 'filter', save: string) {
  const tables = node(obs, name).iptables.tables;
  Object.assign(tables[table]!, parseIptablesSave(`*${table}\n${save}\nCOMMIT\n`)[table]);
}

const masqChain = (order: number[]) => {
  const rules = [
    '-A FLANNEL-POSTRTG -m mark --mark 0x4000/0x4000 -m comment --comment "flanneld masq" -j RETURN',
    '-A FLANNEL-POSTRTG -s 10.244.2.0/24 -d 10.244.0.0/16 -m comment --comment "flanneld masq" -j RETURN',
    '-A FLANNEL-POSTRTG -s 10.244.0.0/16 -d 10.244.2.0/24 -m comment --comment "flanneld masq" -j RETURN',
    '-A FLANNEL-POSTRTG ! -s 10.244.0.0/16 -d 10.244.2.0/24 -m comment --comment "flanneld masq" -j RETURN',
    '-A FLANNEL-POSTRTG -s 10.244.0.0/16 ! -d 224.0.0.0/4 -m comment --comment "flanneld masq" -j MASQUERADE --random-fully',
    '-A FLANNEL-POSTRTG ! -s 10.244.0.0/16 -d 10.244.0.0/16 -m comment --comment "flanneld masq" -j MASQUERADE --random-fully',
  ];
  return order.map((i) => rules[i]!).join('\n');
};

describe('expected-state diff', () => {
  it("finds routes more specific than a node's pod prefix, or a second one for it, and plans to delete exactly those", async () => {
    const obs = healthyLab();
    const w = node(obs, 'fd-worker');
    w.routes.push({ type: 'blackhole', dst: '10.244.0.0/25', flags: [] }, { dst: '10.244.1.0/24', dev: 'eth0', metric: 5, flags: [] }, { dst: '10.244.1.128/25', gateway: '10.244.1.0', dev: 'flannel.1', flags: ['onlink'] });
    const findings = runChecks(obs);
    expect(kinds(findings)).toEqual(['pod-route-extra@fd-worker']);
    expect(findings[0]!.severity).toBe('critical');
    const [plan] = await planRepairs(findings, obs, noAccess);
    expect(plan!.steps.map(describeStep)).toEqual([
      'fd-worker: ip route del blackhole 10.244.0.0/25',
      'fd-worker: ip route del 10.244.1.0/24 dev eth0 metric 5',
      'fd-worker: ip route del 10.244.1.128/25 via 10.244.1.0 dev flannel.1',
    ]);
    expect(unmet(plan!.postcondition, obs)).toHaveLength(3);
    w.routes = w.routes.filter((r) => !r.metric && r.type === undefined && !r.dst.endsWith('/25'));
    expect(unmet(plan!.postcondition, obs)).toEqual([]);
  });

  it("only warns about a more specific route that goes where flanneld's would anyway", () => {
    const obs = healthyLab();
    node(obs, 'fd-worker').routes.push({ dst: '10.244.1.128/25', gateway: '10.244.1.0', dev: 'flannel.1', flags: ['onlink'] });
    expect(runChecks(obs).map((f) => [f.kind, f.severity])).toEqual([['pod-route-extra', 'warning']]);
  });

  it('finds the route to its own pods replaced (dev eth0) or gone, while cni0 is up with its address', async () => {
    const obs = healthyLab();
    const route = node(obs, 'fd-worker').routes.find((r) => r.dst === '10.244.2.0/24')!;
    Object.assign(route, { dev: 'eth0' });
    node(obs, 'fd-worker2').routes = node(obs, 'fd-worker2').routes.filter((r) => r.dst !== '10.244.0.0/24');
    const findings = runChecks(obs);
    expect(kinds(findings)).toEqual(['pod-route-local-wrong@fd-worker', 'pod-route-local-wrong@fd-worker2']);
    const plans = await planRepairs(findings, obs, noAccess);
    expect(plans.map((p) => p.steps.map(describeStep))).toEqual([
      ['fd-worker: ip route replace 10.244.2.0/24 dev cni0 proto kernel scope link src 10.244.2.1'],
      ['fd-worker2: ip route replace 10.244.0.0/24 dev cni0 proto kernel scope link src 10.244.0.1'],
    ]);
  });

  it('finds FDB entries and PERMANENT neighbours flanneld would not have written, and never takes an unobserved peer for a stray', async () => {
    const obs = healthyLab();
    const w = node(obs, 'fd-worker');
    w.fdb.push(
      { mac: '00:00:00:00:00:00', ifname: 'flannel.1', dst: '172.18.0.99', flags: ['self'], state: 'permanent' },
      { mac: '02:00:00:00:0b:ad', ifname: 'flannel.1', dst: '172.18.0.2', flags: ['self'], state: 'permanent' },
    );
    w.neighbours.push({ dst: '10.244.9.0', dev: 'flannel.1', lladdr: '02:00:00:00:00:09', state: ['PERMANENT'] }, { dst: '10.244.9.1', dev: 'flannel.1', state: ['FAILED'] });
    const findings = runChecks(obs);
    expect(findings.map((f) => [f.kind, f.node, f.severity])).toEqual([
      ['vxlan-fdb-stale', 'fd-worker', 'critical'],
      ['vxlan-neighbour-stray', 'fd-worker', 'warning'],
    ]);
    const [plan] = await planRepairs(findings, obs, noAccess);
    expect(plan!.steps.map(describeStep)).toEqual([
      'fd-worker: bridge fdb del 00:00:00:00:00:00 dev flannel.1 dst 172.18.0.99 self',
      'fd-worker: bridge fdb del 02:00:00:00:0b:ad dev flannel.1 dst 172.18.0.2 self',
      'fd-worker: ip neigh del 10.244.9.0 dev flannel.1',
    ]);

    // fd-worker2's kernel state was not read: its annotated MAC still counts as a peer's.
    const partial = healthyLab();
    partial.state.delete('fd-worker2');
    expect(runChecks(partial).filter((f) => f.node === 'fd-worker')).toEqual([]);
  });

  it("finds a rule in flanneld's FLANNEL-FWD that drops, critical, and plans the chain as flanneld writes it", async () => {
    const obs = healthyLab();
    const chain = node(obs, 'fd-worker').iptables.tables.filter!['FLANNEL-FWD']!;
    setChains(obs, 'fd-worker', 'filter', ['-A FLANNEL-FWD -s 10.244.0.0/24 -j DROP', ...chain.rules.map((r) => r.text)].join('\n'));
    const findings = runChecks(obs);
    expect(findings.map((f) => [f.kind, f.node, f.severity])).toEqual([['flannel-forward-rules', 'fd-worker', 'critical']]);
    const [plan] = await planRepairs(findings, obs, noAccess);
    expect(plan!.steps).toMatchObject([{ kind: 'exec', node: 'fd-worker', argv: ['iptables-restore', '--noflush', '--wait'] }]);
    expect(restoreLines(plan!.steps[0]!)).toEqual([
      '*filter',
      ':FLANNEL-FWD - [0:0]',
      '-A FLANNEL-FWD -s 10.244.0.0/16 -m comment --comment "flanneld forward" -j ACCEPT',
      '-A FLANNEL-FWD -d 10.244.0.0/16 -m comment --comment "flanneld forward" -j ACCEPT',
      'COMMIT',
    ]);
    expect(describeStep(plan!.steps[0]!)).toMatch(/^fd-worker: iptables-restore --noflush --wait <<'EOF'\n\*filter\n[^]*\nCOMMIT\nEOF$/);
    expect(plan!.postcondition).toEqual([{ kind: 'flannel-rules', node: 'fd-worker', table: 'filter' }]);
    expect(unmet(plan!.postcondition, obs)[0]!.observed).toMatchObject({ extra: ['-A FLANNEL-FWD -s 10.244.0.0/24 -j DROP'] });
  });

  it("finds the masquerade chain out of flanneld's order and its jump missing, as a warning, and plans flanneld's order and its -A", async () => {
    const obs = healthyLab();
    const nat = node(obs, 'fd-worker').iptables.tables.nat!;
    nat['FLANNEL-POSTRTG']!.rules = [];
    nat.POSTROUTING!.rules = nat.POSTROUTING!.rules.filter((r) => r.target !== 'FLANNEL-POSTRTG');
    setChains(obs, 'fd-worker', 'nat', masqChain([4, 0, 1, 2, 3, 5]));
    const findings = runChecks(obs);
    expect(findings.map((f) => [f.kind, f.severity])).toEqual([['flannel-masq-rules', 'warning']]);
    expect(findings[0]!.summary).toMatch(/its rules out of flanneld's order; no jump from POSTROUTING/);
    const [plan] = await planRepairs(findings, obs, noAccess);
    expect(plan!.steps).toHaveLength(1);
    const lines = restoreLines(plan!.steps[0]!);
    expect(lines.slice(0, 2)).toEqual(['*nat', ':FLANNEL-POSTRTG - [0:0]']);
    expect(lines.slice(2, 8).map((l) => l.split('-A FLANNEL-POSTRTG ')[1]!.split(' -m comment')[0])).toEqual(['-m mark --mark 0x4000/0x4000', '-s 10.244.2.0/24 -d 10.244.0.0/16', '-s 10.244.0.0/16 -d 10.244.2.0/24', '! -s 10.244.0.0/16 -d 10.244.2.0/24', '-s 10.244.0.0/16 ! -d 224.0.0.0/4', '! -s 10.244.0.0/16 -d 10.244.0.0/16']);
    expect(lines.slice(8)).toEqual(['-A POSTROUTING -m comment --comment "flanneld masq" -j FLANNEL-POSTRTG', 'COMMIT']);
  });

  it("moves flanneld's masquerade jump ahead of a rule that ends pod traffic first, and leaves copies of its own rules alone", async () => {
    const obs = healthyLab();
    const nat = node(obs, 'fd-worker').iptables.tables.nat!;
    nat.POSTROUTING = parseIptablesSave(
      '*nat\n-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING\n-A POSTROUTING -s 10.244.0.0/16 -j ACCEPT\n-A POSTROUTING -m comment --comment "flanneld masq" -j FLANNEL-POSTRTG\nCOMMIT\n',
    ).nat!.POSTROUTING!;
    setChains(obs, 'fd-worker', 'nat', masqChain([0, 1, 2, 3, 4, 5, 0, 4]));
    const findings = runChecks(obs);
    expect(kinds(findings)).toEqual(['flannel-masq-rules@fd-worker']);
    const [plan] = await planRepairs(findings, obs, noAccess);
    expect(plan!.steps.map(restoreLines)).toEqual([
      ['*nat', '-D POSTROUTING -m comment --comment "flanneld masq" -j FLANNEL-POSTRTG', '-I POSTROUTING 2 -m comment --comment "flanneld masq" -j FLANNEL-POSTRTG', 'COMMIT'],
    ]);
  });

  it('expects no masquerade chain when flanneld runs without --ip-masq', () => {
    const obs = healthyLab();
    const w = node(obs, 'fd-worker');
    w.subnetEnv = { ...w.subnetEnv, FLANNEL_IPMASQ: 'false' };
    delete w.iptables.tables.nat!['FLANNEL-POSTRTG'];
    w.iptables.tables.nat!.POSTROUTING!.rules = w.iptables.tables.nat!.POSTROUTING!.rules.filter((r) => r.target !== 'FLANNEL-POSTRTG');
    expect(runChecks(obs)).toEqual([]);
  });

  it("finds a pod whose veth is gone from its node, names it from the probe matrix, and calls for a new pod from its controller", () => {
    const obs = healthyLab();
    const w = node(obs, 'fd-worker');
    const pod = obs.probePods.find((p) => p.spec!.nodeName === 'fd-worker')!;
    const veth = w.links.find((l) => l.linkinfo?.info_kind === 'veth' && l.master === 'cni0')!;
    w.links = w.links.filter((l) => l !== veth);
    for (const p of obs.probe!.ping) if (p.targetIp === pod.status!.podIP || p.source === pod.metadata!.name) p.ok = false;
    const findings = runChecks(obs).filter((f) => f.kind === 'pod-network-missing');
    expect(findings.map((f) => [f.node, f.severity, f.repair])).toEqual([['fd-worker', 'critical', 'replace-pod']]);
    expect(findings[0]!.summary).toContain(`${pod.metadata!.namespace}/${pod.metadata!.name} (${pod.status!.podIP}) reaches nothing and nothing reaches it`);

    // Without the probes the pod is not named, the finding stays.
    delete obs.probe;
    expect(runChecks(obs).filter((f) => f.kind === 'pod-network-missing')[0]!.summary).toContain('run the probes to name it');
  });
});
