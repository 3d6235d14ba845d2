import { describe, expect, it } from 'vitest';
import { type ClusterAccess } from '../../src/access.js';
import { BACKEND_DATA } from '../../src/checks/cluster-facts.js';
import { runChecks } from '../../src/checks/index.js';
import { type RepairKind } from '../../src/findings.js';
import { type ClusterObservation } from '../../src/observe/cluster.js';
import { parseIptablesSave } from '../../src/observe/iptables.js';
import { describeStep } from '../../src/repairs/plan.js';
import { planRepairs } from '../../src/repairs/planner.js';
import { describeExpectation, type Expectation, unmet } from '../../src/repairs/postcondition.js';
import { healthyLab, node } from '../support/fixtures.js';

// Post-conditions judged against the captured healthy lab and against copies of it with a fault made by hand.
const WORKER_CNI0_MAC = healthyLab().state.get('fd-worker')!.links.find((l) => l.ifname === 'cni0')!.address!;
const WORKER_VTEP_MAC = '02:de:ad:be:ef:01';
const WORKER_IP = '172.18.0.3';

/** The pods on fd-worker still have cni0's MAC for their gateway; nothing else runs while planning. */
const access = {
  name: 'fixture',
  kubeconfig: '/dev/null',
  node: () => ({ exec: async () => ({ argv: [], exitCode: 0, stdout: '', stderr: '', durationMs: 0 }) }),
  pod: () => ({ exec: async () => ({ argv: [], exitCode: 0, stdout: JSON.stringify([{ dst: '10.244.2.1', dev: 'eth0', lladdr: WORKER_CNI0_MAC, state: ['STALE'] }]), stderr: '', durationMs: 0 }) }),
  nodeFiles: () => ({ subnetEnv: '', cniConflist: '', flannelDataDir: '' }),
  restart: async () => undefined,
} satisfies ClusterAccess;

const fdbEntry = (obs: ClusterObservation, on: string, mac: string) => node(obs, on).fdb.find((e) => e.ifname === 'flannel.1' && e.mac === mac)!;

function dropVxlanInInput(obs: ClusterObservation, on: string) {
  const input = node(obs, on).iptables.tables.filter!.INPUT!;
  const drop = parseIptablesSave('*filter\n-A INPUT -p udp -m udp --dport 8472 -j DROP\nCOMMIT\n').filter!.INPUT!.rules[0]!;
  input.rules = [drop, { ...drop }, ...input.rules].map((r, i) => ({ ...r, position: i + 1 }));
}

const faults: [string, (obs: ClusterObservation) => void, RepairKind[]][] = [
  ['ip_forward off', (obs) => (node(obs, 'fd-worker').sysctls['net.ipv4.ip_forward'] = '0'), ['enable-ip-forward']],
  [
    'cni0 deleted',
    (obs) => {
      const w = node(obs, 'fd-worker');
      w.links = w.links.filter((l) => l.ifname !== 'cni0').map((l) => ({ ...l, master: undefined }));
      w.addresses = w.addresses.filter((a) => a.ifname !== 'cni0');
    },
    ['recreate-cni0'],
  ],
  ['a peer FDB entry with a wrong dst', (obs) => (fdbEntry(obs, 'fd-worker2', WORKER_VTEP_MAC).dst = '172.18.0.99'), ['fix-vxlan-peer']],
  ['an FDB entry with another MAC for a peer address', (obs) => node(obs, 'fd-worker2').fdb.push({ mac: '02:00:00:00:0b:ad', ifname: 'flannel.1', dst: WORKER_IP, flags: ['self'], state: 'permanent' }), ['fix-vxlan-peer']],
  ['a wrong neighbour', (obs) => (node(obs, 'fd-worker2').neighbours.find((n) => n.dev === 'flannel.1' && n.dst === '10.244.2.0')!.lladdr = '02:00:00:00:00:99'), ['fix-vxlan-peer']],
  ['a peer route gone', (obs) => (node(obs, 'fd-worker').routes = node(obs, 'fd-worker').routes.filter((r) => r.dst !== '10.244.0.0/24')), ['fix-vxlan-peer']],
  ['UDP 8472 dropped twice in INPUT', (obs) => dropVxlanInInput(obs, 'fd-worker'), ['delete-iptables-rule']],
  ['a native nftables drop', (obs) => (node(obs, 'fd-worker2').nftRuleset += '\ntable inet fw { # handle 9\n\tchain input { # handle 1\n\t\tudp dport 8472 drop # handle 2\n\t}\n}\n'), ['delete-nft-rule']],
  ['FORWARD policy DROP', (obs) => (node(obs, 'fd-worker2').iptables.tables.filter!.FORWARD!.policy = 'DROP'), ['forward-policy-accept']],
  ['a wrong VtepMAC annotation', (obs) => (obs.nodes.find((n) => n.metadata!.name === 'fd-worker')!.metadata!.annotations![BACKEND_DATA] = JSON.stringify({ VNI: 1, VtepMAC: '02:00:00:00:0b:ad' })), ['restore-vtep-annotation']],
  ['flannel.1 gone', (obs) => (node(obs, 'fd-worker').links = node(obs, 'fd-worker').links.filter((l) => l.ifname !== 'flannel.1')), ['restart-flanneld']],
  [
    'DNS on a node nobody reaches',
    (obs) => {
      for (const p of obs.probe!.ping) if (p.targetNode === 'fd-control-plane' && p.sourceNode !== 'fd-control-plane') p.ok = false;
      for (const s of obs.dnsEndpoints) for (const e of s.endpoints ?? []) e.nodeName = 'fd-control-plane';
    },
    ['move-dns'],
  ],
];

describe('repair post-conditions', () => {
  it.each(faults)('%s: the plan declares one that the faulty state fails and the healthy lab meets', async (_name, fault, repairs) => {
    const obs = healthyLab();
    fault(obs);
    const plans = await planRepairs(runChecks(obs), obs, access);
    expect(plans.map((p) => p.repair)).toEqual(repairs);
    for (const plan of plans) {
      expect(plan.postcondition.length).toBeGreaterThan(0);
      expect(unmet(plan.postcondition, obs).length, plan.postcondition.map(describeExpectation).join('; ')).toBeGreaterThan(0);
      expect(unmet(plan.postcondition, healthyLab())).toEqual([]);
    }
  });

  it('replace a peer FDB entry as flanneld does (never append), and show the dst observed while it is wrong', async () => {
    const obs = healthyLab();
    fdbEntry(obs, 'fd-worker2', WORKER_VTEP_MAC).dst = '172.18.0.99';
    const [plan] = await planRepairs(runChecks(obs), obs, access);
    expect(plan!.steps.map(describeStep)).toEqual([`fd-worker2: bridge fdb replace ${WORKER_VTEP_MAC} dev flannel.1 dst ${WORKER_IP} self permanent`]);
    const expected: Expectation = { kind: 'fdb', node: 'fd-worker2', dev: 'flannel.1', mac: WORKER_VTEP_MAC, dst: WORKER_IP };
    expect(plan!.postcondition).toEqual([expected]);
    expect(unmet(plan!.postcondition, obs)).toEqual([{ expected, observed: ['172.18.0.99'] }]);
    expect(describeExpectation(expected)).toBe(`fd-worker2: fdb ${WORKER_VTEP_MAC} -> dst ${WORKER_IP} on flannel.1, and no other dst`);
  });

  it('delete an FDB entry flanneld would not have written for a peer address before programming the peer', async () => {
    const obs = healthyLab();
    fdbEntry(obs, 'fd-worker2', WORKER_VTEP_MAC).mac = '02:00:00:00:0b:ad';
    const [plan] = await planRepairs(runChecks(obs), obs, access);
    expect(plan!.steps.map(describeStep)).toEqual([
      `fd-worker2: bridge fdb del 02:00:00:00:0b:ad dev flannel.1 dst ${WORKER_IP} self`,
      `fd-worker2: bridge fdb replace ${WORKER_VTEP_MAC} dev flannel.1 dst ${WORKER_IP} self permanent`,
    ]);
    expect(unmet(plan!.postcondition, obs).map((u) => u.observed)).toEqual([`02:00:00:00:0b:ad dst ${WORKER_IP}`, []]);
  });

  it('delete every identical copy of a dropping rule, and still see the rule while one copy is left', async () => {
    const obs = healthyLab();
    dropVxlanInInput(obs, 'fd-worker');
    const [plan] = await planRepairs(runChecks(obs), obs, access);
    expect(plan!.steps.map(describeStep)).toEqual(Array(2).fill('fd-worker: iptables -w -t filter -D INPUT -p udp -m udp --dport 8472 -j DROP'));
    const once = healthyLab();
    const input = node(once, 'fd-worker').iptables.tables.filter!.INPUT!;
    input.rules.unshift(node(obs, 'fd-worker').iptables.tables.filter!.INPUT!.rules[0]!);
    expect(unmet(plan!.postcondition, once).map((u) => u.observed)).toEqual([['-A INPUT -p udp -m udp --dport 8472 -j DROP']]);
  });

  it('fail for a node the observation does not have', () => {
    expect(unmet([{ kind: 'sysctl', node: 'fd-gone', key: 'net.ipv4.ip_forward', value: '1' }], healthyLab())).toEqual([
      { expected: { kind: 'sysctl', node: 'fd-gone', key: 'net.ipv4.ip_forward', value: '1' }, observed: 'fd-gone not observed' },
    ]);
  });
});
