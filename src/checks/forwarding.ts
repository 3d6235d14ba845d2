import { type Finding } from '../findings.js';
import { type ClusterObservation } from '../observe/cluster.js';
import { type IptablesRule } from '../observe/iptables.js';

/** The node routes pod traffic: net.ipv4.ip_forward is on, and nothing in FORWARD drops pod traffic before flannel's accepts. */
export function checkForwarding(obs: ClusterObservation): Finding[] {
  const findings: Finding[] = [];
  for (const [node, o] of obs.state) {
    const forward = o.sysctls['net.ipv4.ip_forward'];
    if (forward !== undefined && forward !== '1') {
      findings.push({
        kind: 'ip-forward-off',
        severity: 'critical',
        node,
        summary: `${node}: net.ipv4.ip_forward is ${forward}: the node does not route pod traffic to or from other nodes`,
        evidence: [{ source: `${node}: /proc/sys/net/ipv4/ip_forward`, observed: forward, expected: '1' }],
        repair: 'enable-ip-forward',
      });
    }
    const chain = o.iptables.tables.filter?.FORWARD;
    if (!chain) continue;
    const flannel = chain.rules.find((r) => r.target === 'FLANNEL-FWD');
    const before = flannel ? chain.rules.slice(0, flannel.position - 1) : chain.rules;
    for (const rule of before.filter(blocksPodTraffic)) {
      findings.push({
        kind: 'forward-blocked',
        severity: 'critical',
        node,
        summary: `${node}: FORWARD rule ${rule.position} (${rule.target}) comes before flannel's accepts and drops pod traffic`,
        evidence: [{ source: `${node}: iptables-save -t filter`, observed: rule.text, expected: flannel ? `nothing that drops pod traffic before rule ${flannel.position} (-j FLANNEL-FWD)` : 'no rule dropping pod traffic' }],
        repair: 'delete-iptables-rule',
        detail: { binary: o.iptables.flavour === 'legacy' ? 'iptables-legacy' : 'iptables', table: 'filter', chain: 'FORWARD', args: rule.args },
      });
    }
    if (chain.policy === 'DROP') {
      findings.push({
        kind: 'forward-policy-drop',
        severity: flannel ? 'warning' : 'critical',
        node,
        summary: flannel
          ? `${node}: FORWARD policy is DROP; flannel's FLANNEL-FWD still accepts pod traffic, other forwarded traffic is dropped`
          : `${node}: FORWARD policy is DROP and flannel's FLANNEL-FWD jump is missing: pod traffic between nodes is dropped`,
        evidence: [{ source: `${node}: iptables-save -t filter`, observed: { policy: 'DROP', flannelJump: flannel?.text ?? null }, expected: { policy: 'ACCEPT' } }],
        repair: 'forward-policy-accept',
        detail: { binary: o.iptables.flavour === 'legacy' ? 'iptables-legacy' : 'iptables' },
      });
    }
  }
  return findings;
}

/** A DROP/REJECT that pod traffic can hit: not limited to invalid packets, and not to addresses outside the pod network. */
function blocksPodTraffic(rule: IptablesRule): boolean {
  if (rule.target !== 'DROP' && rule.target !== 'REJECT') return false;
  const text = rule.args.join(' ');
  if (/--ctstate INVALID\b/.test(text) && !/--ctstate [^ ]*(NEW|ESTABLISHED)/.test(text)) return false;
  return true;
}
