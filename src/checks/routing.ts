import { type Finding } from '../findings.js';
import { type ClusterObservation } from '../observe/cluster.js';
import { type RoutingRule } from '../observe/ip.js';
import { overlaps } from './netfilter.js';

/** The tables every node has; a rule sending pod traffic anywhere else diverts it from the main table flannel programs. */
const STANDARD_TABLES = ['local', 'main', 'default'];

/**
 * The routing decisions pod traffic meets besides the routes themselves: forwarding enabled on
 * each interface pod traffic enters (cni0 from local pods, flannel.1 from peers, the uplink), and
 * no policy routing rule that diverts pod traffic away from the main table (the pattern of an
 * AWS VPC-CNI left behind: `from <pod range> lookup <its table>`).
 */
export function checkRouting(obs: ClusterObservation): Finding[] {
  const podNets = obs.nodes.map((n) => n.spec?.podCIDR).filter((c): c is string => !!c);
  const findings: Finding[] = [];
  for (const [node, o] of obs.state) {
    // Global forwarding off turns every interface off with it: that finding (ip-forward-off) says it all.
    if (o.sysctls['net.ipv4.ip_forward'] === '1') {
      const uplink = o.links.find((l) => l.ifname === 'flannel.1')?.linkinfo?.info_data?.link;
      for (const dev of ['cni0', 'flannel.1', ...(uplink ? [uplink] : [])]) {
        const key = `net.ipv4.conf.${dev}.forwarding`;
        const value = o.sysctls[key];
        if (value === undefined || value === '1') continue;
        // Pod-to-pod traffic enters on cni0 and flannel.1 (vxlan is decapsulated there); the uplink only
        // carries what comes from outside the cluster network to the pods (NodePorts).
        const podPath = dev !== uplink;
        findings.push({
          kind: 'interface-forwarding-off',
          severity: podPath ? 'critical' : 'warning',
          node,
          summary: `${node}: ${key} is ${value}: packets entering ${dev} are not routed, though net.ipv4.ip_forward is 1${podPath ? '' : ' (traffic from outside to the pods, such as NodePorts, is dropped; pod-to-pod traffic is not)'}`,
          evidence: [{ source: `${node}: /proc/sys/net/ipv4/conf/${dev}/forwarding`, observed: value, expected: '1' }],
          repair: 'enable-interface-forwarding',
          // sysctl reads dots as separators (flannel.1 would be flannel/1): the path form keeps the name.
          detail: { key, path: `net/ipv4/conf/${dev}/forwarding` },
        });
      }
    }
    // Snapshots taken before rules were read have none.
    for (const rule of (o.rules ?? []).filter((r) => diverts(r, podNets))) {
      findings.push({
        kind: 'policy-routing-divert',
        severity: 'critical',
        node,
        summary: `${node}: policy routing rule "${describeRule(rule)}" sends pod traffic ${rule.action && rule.action !== 'to_tbl' ? `to ${rule.action}` : `to table ${rule.table}`} instead of the main table, where flannel's routes are`,
        evidence: [{ source: `${node}: ip -j rule show`, observed: describeRule(rule), expected: 'only the local, main and default rules for pod traffic' }],
        repair: 'delete-ip-rule',
        detail: { priority: rule.priority, selector: ruleSelector(rule) },
      });
    }
  }
  return findings;
}

function diverts(r: RoutingRule, podNets: string[]): boolean {
  const elsewhere = (r.action !== undefined && r.action !== 'to_tbl') || (r.table !== undefined && !STANDARD_TABLES.includes(r.table));
  if (!elsewhere) return false;
  const src = r.src && r.src !== 'all' ? `${r.src}/${r.srclen ?? 32}` : undefined;
  const dst = r.dst && r.dst !== 'all' ? `${r.dst}/${r.dstlen ?? 32}` : undefined;
  const matchesPods = (cidr: string | undefined) => cidr === undefined || podNets.some((n) => overlaps(cidr, n));
  // A rule limited to a mark or an interface applies to some packets only: not judged here.
  return !r.fwmark && !r.iif && !r.oif && matchesPods(src) && matchesPods(dst);
}

/** The rule's selector and action as `ip rule del` takes them. */
export function ruleSelector(r: RoutingRule): string[] {
  return [
    ...(r.src && r.src !== 'all' ? ['from', `${r.src}/${r.srclen ?? 32}`] : []),
    ...(r.dst && r.dst !== 'all' ? ['to', `${r.dst}/${r.dstlen ?? 32}`] : []),
    ...(r.action && r.action !== 'to_tbl' ? [r.action] : r.table ? ['lookup', r.table] : []),
  ];
}

const describeRule = (r: RoutingRule) => `${r.priority}: ${ruleSelector(r).join(' ') || 'all'}`;
