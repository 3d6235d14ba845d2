import { describe, expect, it } from 'vitest';
import { type ClusterAccess } from '../../src/access.js';
import { runChecks } from '../../src/checks/index.js';
import { describeStep } from '../../src/repairs/plan.js';
import { planRepairs } from '../../src/repairs/planner.js';
import { healthyLab, node } from '../support/fixtures.js';

/** Pods answer `ip -j neigh show <gateway>` with the old cni0 MAC; nothing else is run while planning. */
const access = {
  name: 'fixture',
  kubeconfig: '/dev/null',
  node: () => ({ exec: async () => ({ argv: [], exitCode: 0, stdout: '', stderr: '', durationMs: 0 }) }),
  pod: () => ({ exec: async () => ({ argv: [], exitCode: 0, stdout: '[{"dst":"10.244.2.1","dev":"eth0","lladdr":"aa:bb:cc:dd:ee:ff","state":["STALE"]}]', stderr: '', durationMs: 0 }) }),
  nodeFiles: () => ({ subnetEnv: '', cniConflist: '', flannelDataDir: '' }),
  restart: async () => undefined,
} satisfies ClusterAccess;

describe('repair planner', () => {
  it('rebuilds cni0 from subnet.env with the MAC the pods still have, and re-attaches every pod veth in hairpin mode', async () => {
    const obs = healthyLab();
    const w = node(obs, 'fd-worker');
    const veths = w.links.filter((l) => l.master === 'cni0').map((l) => l.ifname);
    w.links = w.links.filter((l) => l.ifname !== 'cni0').map((l) => ({ ...l, master: undefined }));
    w.addresses = w.addresses.filter((a) => a.ifname !== 'cni0');
    const [plan] = await planRepairs(runChecks(obs), obs, access);
    const steps = plan!.steps.map(describeStep);
    expect(steps.slice(0, 4)).toEqual([
      'fd-worker: ip link add cni0 address aa:bb:cc:dd:ee:ff type bridge',
      'fd-worker: ip link set cni0 mtu 1450',
      'fd-worker: ip addr replace 10.244.2.1/24 dev cni0',
      'fd-worker: ip link set cni0 up',
    ]);
    for (const v of veths) {
      expect(steps).toContain(`fd-worker: ip link set ${v} master cni0`);
      expect(steps).toContain(`fd-worker: bridge link set dev ${v} hairpin on`);
    }
    expect(steps.join('\n')).not.toMatch(/eth0|flannel\.1/);
  });

  it('deletes exactly the offending rule, and orders firewall repairs before others', async () => {
    const obs = healthyLab();
    node(obs, 'fd-worker').sysctls['net.ipv4.ip_forward'] = '0';
    const input = node(obs, 'fd-worker2').iptables.tables.filter!.INPUT!;
    input.rules.unshift({ chain: 'INPUT', position: 1, args: ['-p', 'udp', '-m', 'udp', '--dport', '8472', '-j', 'DROP'], target: 'DROP', text: '-A INPUT -p udp -m udp --dport 8472 -j DROP' });
    const plans = await planRepairs(runChecks(obs), obs, access);
    expect(plans.map((p) => `${p.repair}@${p.node}`)).toEqual(['delete-iptables-rule@fd-worker2', 'enable-ip-forward@fd-worker']);
    expect(plans[0]!.steps[0]).toMatchObject({ kind: 'exec', node: 'fd-worker2', argv: ['iptables', '-w', '-t', 'filter', '-D', 'INPUT', '-p', 'udp', '-m', 'udp', '--dport', '8472', '-j', 'DROP'] });
  });
});
