import { describe, expect, it } from 'vitest';
import { runChecks } from '../../src/checks/index.js';
import { overlaps } from '../../src/checks/netfilter.js';
import { type Finding } from '../../src/findings.js';
import { parseIptablesSave } from '../../src/observe/iptables.js';
import { parseFileReads } from '../../src/observe/node.js';
import { type ClusterAccess } from '../../src/access.js';
import { planRepairs } from '../../src/repairs/planner.js';
import { unmet } from '../../src/repairs/postcondition.js';
import { healthyLab, node } from '../support/fixtures.js';

// The checks beyond the six incidents, against copies of a real healthy lab snapshot with each fault made in it.
const kinds = (findings: Finding[]) => findings.map((f) => `${f.kind}@${f.node ?? '-'}`).sort();
const noAccess = {} as ClusterAccess;

function addRule(obs: ReturnType<typeof healthyLab>, nodeName: string, table: string, rule: string, legacy = false) {
  const o = node(obs, nodeName).iptables;
  const tables = legacy ? (o.legacy ??= {}) : o.tables;
  const parsed = parseIptablesSave(`*${table}\n${rule}\nCOMMIT\n`)[table]!;
  const into = (tables[table] ??= {});
  for (const [name, chain] of Object.entries(parsed)) {
    const target = (into[name] ??= { name, rules: [] });
    target.rules = [...chain.rules, ...target.rules];
    target.rules.forEach((r, i) => (r.position = i + 1));
  }
}

describe('wider checks', () => {
  it('find pod traffic dropped in raw, mangle and filter, legacy and nft, but not INVALID drops, other networks, or what the vxlan check names', () => {
    const obs = healthyLab();
    addRule(obs, 'fd-worker', 'raw', '-A PREROUTING -s 10.244.0.0/16 -j DROP', true);
    addRule(obs, 'fd-worker', 'mangle', '-A INPUT -i cni0 -j DROP');
    addRule(obs, 'fd-worker2', 'filter', '-A OUTPUT -d 10.244.2.0/24 -j REJECT --reject-with icmp-port-unreachable');
    addRule(obs, 'fd-worker2', 'filter', '-A INPUT -m conntrack --ctstate INVALID -j DROP');
    addRule(obs, 'fd-worker2', 'filter', '-A INPUT -s 192.168.0.0/16 -j DROP');
    addRule(obs, 'fd-control-plane', 'raw', '-A OUTPUT -p udp -m udp --dport 8472 -j DROP');
    const findings = runChecks(obs);
    expect(kinds(findings)).toEqual(['pod-traffic-dropped@fd-worker', 'pod-traffic-dropped@fd-worker', 'pod-traffic-dropped@fd-worker2', 'vxlan-blocked@fd-control-plane']);
    expect(findings.find((f) => f.kind === 'pod-traffic-dropped' && (f.detail as { table: string }).table === 'raw')!.detail).toEqual({ binary: 'iptables-legacy', table: 'raw', chain: 'PREROUTING', args: ['-s', '10.244.0.0/16', '-j', 'DROP'] });
  });

  it('find a native nftables drop of pod traffic by address or interface, with its handle, and plan its deletion with a post-condition', async () => {
    const obs = healthyLab();
    node(obs, 'fd-worker').nftRuleset += '\ntable inet fw { # handle 9\n\tchain out { # handle 1\n\t\ttype filter hook output priority filter; policy accept;\n\t\tip daddr 10.244.1.0/24 drop # handle 2\n\t\toifname "flannel.1" reject # handle 3\n\t\tip daddr 8.8.8.8 drop # handle 4\n\t}\n}\n';
    const findings = runChecks(obs);
    expect(findings.map((f) => f.detail)).toEqual([
      { family: 'inet', table: 'fw', chain: 'out', handle: '2' },
      { family: 'inet', table: 'fw', chain: 'out', handle: '3' },
    ]);
    const [plan] = await planRepairs(findings, obs, noAccess);
    expect(plan!.steps.map((s) => (s.kind === 'exec' ? s.argv.join(' ') : ''))).toEqual(['nft delete rule inet fw out handle 2', 'nft delete rule inet fw out handle 3']);
    expect(unmet(plan!.postcondition, obs).map((u) => u.observed)).toEqual(['ip daddr 10.244.1.0/24 drop # handle 2', 'oifname "flannel.1" reject # handle 3']);
    expect(unmet(plan!.postcondition, healthyLab())).toEqual([]);
  });

  it('find forwarding off on one interface, and plan the sysctl in its path form (flannel.1 has a dot)', async () => {
    const obs = healthyLab();
    const read = (stdout: string) => parseFileReads({ stdout, stderr: '' }, { subnetEnv: '/run/flannel/subnet.env', cniConflist: '', flannelDataDir: '' }).sysctls;
    Object.assign(node(obs, 'fd-worker').sysctls, read('/proc/sys/net/ipv4/conf/flannel.1/forwarding:0\n/proc/sys/net/ipv4/conf/cni0/forwarding:1\n'));
    Object.assign(node(obs, 'fd-worker2').sysctls, read('/proc/sys/net/ipv4/conf/eth0/forwarding:0\n'));
    const all = runChecks(obs);
    expect(all.map((f) => `${f.kind}@${f.node} ${f.severity}`).sort()).toEqual(['interface-forwarding-off@fd-worker critical', 'interface-forwarding-off@fd-worker2 warning']);
    const findings = all.filter((f) => f.node === 'fd-worker');
    expect(findings[0]!.evidence[0]).toMatchObject({ observed: '0', expected: '1' });
    const [plan] = await planRepairs(findings, obs, noAccess);
    expect(plan!.steps).toMatchObject([{ argv: ['sysctl', '-w', 'net/ipv4/conf/flannel.1/forwarding=1'] }]);
    expect(plan!.postcondition).toEqual([{ kind: 'sysctl', node: 'fd-worker', key: 'net.ipv4.conf.flannel.1.forwarding', value: '1' }]);
  });

  it('find policy routing rules diverting pod traffic, not rules for other traffic', async () => {
    const obs = healthyLab();
    const base = [
      { priority: 0, src: 'all', table: 'local' },
      { priority: 32766, src: 'all', table: 'main' },
      { priority: 32767, src: 'all', table: 'default' },
    ];
    node(obs, 'fd-worker').rules = [...base, { priority: 100, src: '10.244.2.0', srclen: 24, table: '100' }, { priority: 101, src: '192.168.0.0', srclen: 16, table: '7' }, { priority: 102, src: 'all', fwmark: '0x1', table: '7' }];
    node(obs, 'fd-worker2').rules = [...base, { priority: 100, src: 'all', dst: '10.244.0.0', dstlen: 24, action: 'prohibit' }];
    const findings = runChecks(obs);
    expect(kinds(findings)).toEqual(['policy-routing-divert@fd-worker', 'policy-routing-divert@fd-worker2']);
    const plans = await planRepairs(findings, obs, noAccess);
    expect(plans.map((p) => p.steps.map((s) => (s.kind === 'exec' ? s.argv.join(' ') : '')))).toEqual([['ip rule del priority 100 from 10.244.2.0/24 lookup 100'], ['ip rule del priority 100 to 10.244.0.0/24 prohibit']]);
    expect(unmet(plans[0]!.postcondition, obs)).toHaveLength(1);
  });

  it('find flannel.1 down, with another MTU or learning on, or with another VNI', async () => {
    const obs = healthyLab();
    const vxlan = (n: string) => node(obs, n).links.find((l) => l.ifname === 'flannel.1')!;
    vxlan('fd-worker').flags = ['BROADCAST', 'MULTICAST'];
    vxlan('fd-worker2').mtu = 1400;
    vxlan('fd-worker2').linkinfo!.info_data!.learning = true;
    vxlan('fd-control-plane').linkinfo!.info_data!.id = 2;
    const findings = runChecks(obs);
    expect(kinds(findings)).toEqual(['vxlan-device-down@fd-worker', 'vxlan-device-misconfigured@fd-control-plane', 'vxlan-device-misconfigured@fd-worker2']);
    expect(findings.find((f) => f.node === 'fd-control-plane')!.repair).toBe('restart-flanneld');
    const plans = await planRepairs(findings, obs, noAccess);
    expect(plans.filter((p) => p.repair === 'set-vxlan-device').map((p) => [p.node, p.steps.map((s) => (s.kind === 'exec' ? s.argv.slice(3).join(' ') : ''))])).toEqual([
      ['fd-worker', ['flannel.1 up']],
      ['fd-worker2', ['flannel.1 mtu 1450', 'flannel.1 type vxlan nolearning']],
    ]);
  });

  it('find a pod veth down on cni0, and CoreDNS scaled to zero', async () => {
    const obs = healthyLab();
    const veth = node(obs, 'fd-worker').links.find((l) => l.master === 'cni0')!;
    veth.flags = ['BROADCAST', 'MULTICAST'];
    obs.dnsDeployment!.spec!.replicas = 0;
    obs.dnsEndpoints = [];
    const findings = runChecks(obs);
    expect(kinds(findings)).toEqual(['dns-no-endpoints@-', 'dns-scaled-to-zero@-', 'veth-down@fd-worker']);
    const plans = await planRepairs(findings, obs, noAccess);
    expect(plans.find((p) => p.repair === 'recreate-cni0')!.steps.map((s) => (s.kind === 'exec' ? s.argv.join(' ') : ''))).toEqual([`ip link set ${veth.ifname} up`]);
    expect(plans.find((p) => p.repair === 'scale-dns')!.postcondition).toEqual([{ kind: 'dns-ready', replicas: 2 }]);
  });

  it('compare IPv4 prefixes', () => {
    expect(overlaps('10.244.0.0/16', '10.244.2.0/24')).toBe(true);
    expect(overlaps('10.244.2.7', '10.244.2.0/24')).toBe(true);
    expect(overlaps('10.245.0.0/16', '10.244.2.0/24')).toBe(false);
    expect(overlaps('0.0.0.0/0', '10.244.2.0/24')).toBe(true);
    expect(overlaps('fe80::/64', '10.244.2.0/24')).toBe(false);
  });
});
