import { type Finding } from '../findings.js';
import { type ClusterObservation } from '../observe/cluster.js';
import { ipv4Of, type Route, type RoutingRule } from '../observe/ip.js';
import { type NodeObservation } from '../observe/node.js';
import { nodeFacts } from './cluster-facts.js';
import { cidrsOverlap, overlaps, parseCidr } from './netfilter.js';

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

/**
 * The main table's routes into the pod network, diffed both ways against what flanneld and the
 * bridge plugin leave: per peer `<podCIDR> via <vtep> dev flannel.1 onlink` (checked in vxlan.ts),
 * the node's own `<podCIDR> dev cni0 scope link src <gateway>`, and nothing else as specific as a
 * node's pod prefix or more: a /25 inside a peer's /24, a blackhole, unreachable or prohibit route,
 * a second route for the prefix at another metric. Longest prefix wins, so each of those takes
 * part or all of a node's pods away from flannel.
 */
export function checkPodRoutes(obs: ClusterObservation): Finding[] {
  const facts = obs.nodes.map((n) => nodeFacts(n, obs.state.get(n.metadata!.name!))).filter((f) => f.podCIDR);
  // Parsed once: every node's routes are matched against every node's prefix.
  const prefixes = facts.flatMap((fact) => {
    const cidr = parseCidr(fact.podCIDR!);
    return cidr ? [{ fact, cidr }] : [];
  });
  const owner = (dst: string, within: boolean) => {
    const d = parseCidr(dst);
    return d && prefixes.find((p) => cidrsOverlap(d, p.cidr) && (!within || d.len >= p.cidr.len))?.fact;
  };
  const findings: Finding[] = [];
  for (const [node, o] of obs.state) {
    const own = facts.find((f) => f.name === node);
    const extra = o.routes.filter((r) => {
      const covering = owner(r.dst, true);
      if (!covering) return false;
      // The route flanneld (or the kernel, for cni0's address) owns: its slot is judged by the per-peer and local checks.
      return !(r.dst === covering.podCIDR && !r.metric);
    });
    if (extra.length) {
      const diverting = extra.filter((r) => !sameNextHop(r, owner(r.dst, false), node));
      findings.push({
        kind: 'pod-route-extra',
        severity: diverting.length ? 'critical' : 'warning',
        node,
        summary: `${node}: ${extra.length} route(s) into the pod network that neither flanneld nor the bridge plugin writes: ${extra.map(describeRoute).join('; ')}${diverting.length ? ' (more specific than, or in place of, the pod prefix: the pods it covers are sent elsewhere)' : ''}`,
        evidence: [{ source: `${node}: ip -j route show`, observed: extra.map(describeRoute), expected: 'per node one route for its pod prefix: via its VTEP dev flannel.1 onlink (peers), dev cni0 (this node)' }],
        repair: 'fix-pod-routes',
        detail: { delete: extra.map(routeSelector) },
      });
    }
    const local = own?.podCIDR ? localRouteProblem(o, own.podCIDR) : undefined;
    if (local) {
      findings.push({
        kind: 'pod-route-local-wrong',
        severity: 'critical',
        node,
        summary: `${node}: the route to this node's own pods ${own!.podCIDR} is ${local.observed ? describeRoute(local.observed) : 'missing'}, though cni0 is up with ${local.gateway}: replies to them leave the wrong way`,
        evidence: [{ source: `${node}: ip -j route show`, observed: local.observed ?? null, expected: `${own!.podCIDR} dev cni0 proto kernel scope link src ${local.gateway.split('/')[0]}` }],
        repair: 'fix-pod-routes',
        detail: { local: { dst: own!.podCIDR, src: local.gateway.split('/')[0] } },
      });
    }
  }
  return findings;
}

/** The kernel's route for cni0's address, when cni0 is up with it (else the bridge findings say what is wrong). */
function localRouteProblem(o: NodeObservation, podCIDR: string): { gateway: string; observed?: Route } | undefined {
  const cni0 = o.links.find((l) => l.ifname === 'cni0');
  const gateway = o.subnetEnv?.FLANNEL_SUBNET;
  if (!cni0?.flags.includes('UP') || !gateway || !ipv4Of(o.addresses, 'cni0').includes(gateway)) return undefined;
  const route = o.routes.find((r) => r.dst === podCIDR && !r.metric);
  return route?.dev === 'cni0' && !route.gateway && (route.type ?? 'unicast') === 'unicast' ? undefined : { gateway, ...(route ? { observed: route } : {}) };
}

/** A route that sends where flanneld's would anyway (say a /25 via the same VTEP): not a cause, still not flanneld's. */
function sameNextHop(r: Route, owner: { name: string; vtepIp?: string } | undefined, node: string): boolean {
  if (!owner || (r.type ?? 'unicast') !== 'unicast') return false;
  return owner.name === node ? r.dev === 'cni0' && !r.gateway : r.dev === 'flannel.1' && r.gateway === owner.vtepIp;
}

/** What `ip route del` needs to remove exactly this route. */
export function routeSelector(r: Route): string[] {
  return [...(r.type && r.type !== 'unicast' ? [r.type] : []), r.dst, ...(r.gateway ? ['via', r.gateway] : []), ...(r.dev ? ['dev', r.dev] : []), ...(r.metric ? ['metric', String(r.metric)] : [])];
}

const describeRoute = (r: Route) => [...routeSelector(r), ...(r.flags.includes('onlink') ? ['onlink'] : [])].join(' ');
