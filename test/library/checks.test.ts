import { describe, expect, it } from 'vitest';
import { runChecks } from '../../src/checks/index.js';
import { BACKEND_DATA } from '../../src/checks/cluster-facts.js';
import { unreachableNodes } from '../../src/checks/reachability.js';
import { type Finding } from '../../src/findings.js';
import { parseIptablesSave } from '../../src/observe/iptables.js';
import { healthyLab, node } from '../support/fixtures.js';

// The checks against a snapshot of a real healthy lab, and the faults the issue lists, made in copies of it.
const kinds = (findings: Finding[]) => findings.map((f) => `${f.kind}@${f.node ?? '-'}`).sort();

/** Adds a rule (as iptables-save prints it) to a node's filter table, at the top of its chain or at the end. */
function addRule(obs: ReturnType<typeof healthyLab>, nodeName: string, rule: string, at: 'top' | 'end' = 'top') {
  const filter = node(obs, nodeName).iptables.tables.filter!;
  const parsed = parseIptablesSave(`*filter\n${rule}\nCOMMIT\n`).filter!;
  for (const [name, chain] of Object.entries(parsed)) {
    const target = (filter[name] ??= { name, rules: [] });
    target.rules = at === 'top' ? [...chain.rules, ...target.rules] : [...target.rules, ...chain.rules];
    target.rules.forEach((r, i) => (r.position = i + 1));
  }
}

describe('checks', () => {
  it('find nothing in a healthy lab', () => {
    expect(runChecks(healthyLab())).toEqual([]);
  });

  it('find cni0 missing on any node, naming its orphaned pod veths', () => {
    const obs = healthyLab();
    const cp = node(obs, 'fd-control-plane');
    cp.links = cp.links.filter((l) => l.ifname !== 'cni0').map((l) => ({ ...l, master: undefined }));
    cp.addresses = cp.addresses.filter((a) => a.ifname !== 'cni0');
    const findings = runChecks(obs);
    expect(kinds(findings)).toEqual(['cni0-missing@fd-control-plane']);
    expect(findings[0]!.detail).toMatchObject({ gateway: '10.244.1.1/24', mtu: 1450 });
    expect((findings[0]!.detail as { veths: string[] }).veths.length).toBeGreaterThan(0);
    expect((findings[0]!.detail as { veths: string[] }).veths).not.toContain('eth0');
  });

  it('find ip_forward off on several nodes at once', () => {
    const obs = healthyLab();
    node(obs, 'fd-worker').sysctls['net.ipv4.ip_forward'] = '0';
    node(obs, 'fd-worker2').sysctls['net.ipv4.ip_forward'] = '0';
    expect(kinds(runChecks(obs))).toEqual(['ip-forward-off@fd-worker', 'ip-forward-off@fd-worker2']);
  });

  it('find a wrong neighbour entry that no annotation change explains', () => {
    const obs = healthyLab();
    const peer = node(obs, 'fd-worker2').neighbours.find((n) => n.dev === 'flannel.1' && n.dst === '10.244.2.0')!;
    peer.lladdr = '02:00:00:00:00:99';
    const findings = runChecks(obs);
    expect(kinds(findings)).toEqual(['vxlan-neighbour-wrong@fd-worker2']);
    expect(findings[0]!.evidence[0]!.expected).toMatchObject({ state: ['PERMANENT'] });
  });

  it("find a VtepMAC annotation that is not the node's real flannel.1 MAC", () => {
    const obs = healthyLab();
    const worker = obs.nodes.find((n) => n.metadata!.name === 'fd-worker')!;
    worker.metadata!.annotations![BACKEND_DATA] = JSON.stringify({ VNI: 1, VtepMAC: '02:00:00:00:0b:ad' });
    const findings = runChecks(obs);
    expect(kinds(findings)).toEqual(['vtep-annotation-mismatch@fd-worker']);
    expect(findings[0]!.evidence[0]).toMatchObject({ observed: '02:00:00:00:0b:ad', expected: node(obs, 'fd-worker').links.find((l) => l.ifname === 'flannel.1')!.address });
  });

  it('find UDP 8472 dropped in OUTPUT, and by a native nftables rule', () => {
    const obs = healthyLab();
    addRule(obs, 'fd-worker', '-A OUTPUT -p udp -m udp --dport 8472 -j DROP');
    node(obs, 'fd-worker2').nftRuleset += '\ntable inet fw { # handle 9\n\tchain input { # handle 1\n\t\ttype filter hook input priority filter; policy accept;\n\t\tudp dport 8472 drop # handle 2\n\t}\n}\n';
    const findings = runChecks(obs);
    expect(kinds(findings)).toEqual(['vxlan-blocked@fd-worker', 'vxlan-blocked@fd-worker2']);
    expect(findings.find((f) => f.node === 'fd-worker')!.detail).toMatchObject({ table: 'filter', chain: 'OUTPUT', args: ['-p', 'udp', '-m', 'udp', '--dport', '8472', '-j', 'DROP'] });
    expect(findings.find((f) => f.node === 'fd-worker2')!.detail).toEqual({ family: 'inet', table: 'fw', chain: 'input', handle: '2' });
  });

  it("find a REJECT above flannel's accepts, and judge FORWARD policy DROP by whether FLANNEL-FWD is there", () => {
    const obs = healthyLab();
    addRule(obs, 'fd-worker', '-A FORWARD -j REJECT --reject-with icmp-host-prohibited');
    node(obs, 'fd-worker2').iptables.tables.filter!.FORWARD!.policy = 'DROP';
    const cpForward = node(obs, 'fd-control-plane').iptables.tables.filter!.FORWARD!;
    cpForward.policy = 'DROP';
    cpForward.rules = cpForward.rules.filter((r) => r.target !== 'FLANNEL-FWD');
    const findings = runChecks(obs);
    expect(kinds(findings)).toEqual(['flannel-forward-rules@fd-control-plane', 'forward-blocked@fd-worker', 'forward-policy-drop@fd-control-plane', 'forward-policy-drop@fd-worker2']);
    expect(findings.find((f) => f.node === 'fd-worker2')!.severity).toBe('warning');
    expect(findings.filter((f) => f.node === 'fd-control-plane').map((f) => f.severity)).toEqual(['critical', 'critical']);
  });

  it('find two faults at once', () => {
    const obs = healthyLab();
    node(obs, 'fd-worker').sysctls['net.ipv4.ip_forward'] = '0';
    addRule(obs, 'fd-worker2', '-A INPUT -p udp -m udp --dport 8472 -j DROP');
    expect(kinds(runChecks(obs))).toEqual(['ip-forward-off@fd-worker', 'vxlan-blocked@fd-worker2']);
  });

  it('find DNS on a node the others cannot reach, and that node, from the probe matrix', () => {
    const obs = healthyLab();
    for (const p of obs.probe!.ping) if (p.targetNode === 'fd-control-plane' && p.sourceNode !== 'fd-control-plane') p.ok = false;
    for (const d of obs.probe!.dns) if (d.sourceNode !== 'fd-control-plane') Object.assign(d, { ok: false, error: 'timed out' });
    for (const s of obs.dnsEndpoints) for (const e of s.endpoints ?? []) e.nodeName = 'fd-control-plane';
    const findings = runChecks(obs);
    expect(kinds(findings)).toEqual(['dns-failing@-', 'dns-on-unreachable-node@fd-control-plane', 'node-pod-network-unreachable@fd-control-plane', 'pod-unreachable@fd-control-plane']);
    expect(findings.find((f) => f.kind === 'dns-on-unreachable-node')!.detail).toMatchObject({ avoid: ['fd-control-plane'] });
  });

  it('call a node unreachable only while pods elsewhere still reach each other, whatever its own pods reach', () => {
    const cut = healthyLab();
    for (const p of cut.probe!.ping) if (p.targetNode === 'fd-worker' && p.sourceNode !== 'fd-worker') p.ok = false;
    // Its own pods failing to reach the others, or each other, changes nothing.
    for (const p of cut.probe!.ping) if (p.sourceNode === 'fd-worker') p.ok = false;
    expect(unreachableNodes(cut)).toEqual(['fd-worker']);
    const blackout = healthyLab();
    for (const p of blackout.probe!.ping) if (p.sourceNode !== p.targetNode) p.ok = false;
    expect(unreachableNodes(blackout), 'nothing crosses nodes: no node stands out').toEqual([]);
    const pair = healthyLab();
    pair.probe!.ping = pair.probe!.ping.filter((p) => p.sourceNode !== 'fd-worker2' && p.targetNode !== 'fd-worker2');
    for (const p of pair.probe!.ping) if (p.targetNode === 'fd-worker' && p.sourceNode !== 'fd-worker') p.ok = false;
    expect(unreachableNodes(pair), 'two nodes: no pings elsewhere to compare with').toEqual(['fd-worker']);
  });
});
