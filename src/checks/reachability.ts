import { type Finding } from '../findings.js';
import { type ClusterObservation } from '../observe/cluster.js';
import { failedDns, failedPings, involvement } from '../probes/types.js';

const sample = <T>(items: T[], n = 8) => (items.length > n ? [...items.slice(0, n), `… ${items.length - n} more`] : items);

/** The symptoms, from the probe matrix: which pairs fail, whether one node's pod network is cut off, whether DNS answers. */
export function checkReachability(obs: ClusterObservation): Finding[] {
  const probe = obs.probe;
  if (!probe) return [];
  const findings: Finding[] = [];
  const failed = failedPings(probe);
  if (failed.length) {
    const [node] = involvement(probe)[0]!;
    findings.push({
      kind: 'pod-unreachable',
      severity: 'critical',
      node,
      summary: `${failed.length}/${probe.ping.length} pod and gateway pings fail (most involve ${node})`,
      evidence: [{ source: 'probe matrix (fping from every probe pod)', observed: sample(failed.map((p) => `${p.source} (${p.sourceNode}) -> ${p.target} ${p.targetIp} (${p.targetNode})`)), expected: 'every ping answered' }],
    });
  }
  for (const node of unreachableNodes(obs)) {
    findings.push({
      kind: 'node-pod-network-unreachable',
      severity: 'critical',
      node,
      summary: `${node}: no pod on another node reaches any pod or the gateway on ${node}`,
      evidence: [{ source: 'probe matrix', observed: failed.filter((p) => p.targetNode === node && p.sourceNode !== node).map((p) => `${p.source} -> ${p.target}`).slice(0, 8), expected: `pods on ${node} reachable from other nodes` }],
    });
  }
  const dnsFailed = failedDns(probe);
  if (dnsFailed.length) {
    findings.push({
      kind: 'dns-failing',
      severity: 'critical',
      summary: `${dnsFailed.length}/${probe.dns.length} DNS lookups through ${dnsFailed[0]!.server} fail`,
      evidence: [{ source: `nslookup ${dnsFailed[0]!.name} ${dnsFailed[0]!.server} from every probe pod`, observed: sample(dnsFailed.map((d) => `${d.source} (${d.sourceNode}): ${d.error ?? 'no answer'}`)), expected: 'an answer from every pod' }],
    });
  }
  return findings;
}

/** Nodes whose pods (and gateway) no pod on any other node reaches, while pods elsewhere do reach each other. */
export function unreachableNodes(obs: ClusterObservation): string[] {
  const probe = obs.probe;
  if (!probe) return [];
  // One pass over the pings (N² of them on N nodes), not one per node: per node, its inbound pings
  // from other nodes and the cross-node pings it takes part in; "elsewhere" is all of them but those.
  const inbound = new Map<string, Tally>();
  const involved = new Map<string, Tally>();
  const cross: Tally = { total: 0, ok: 0 };
  for (const p of probe.ping) {
    const into = tallyOf(inbound, p.targetNode);
    if (p.sourceNode === p.targetNode) continue;
    for (const t of [into, tallyOf(involved, p.targetNode), tallyOf(involved, p.sourceNode), cross]) {
      t.total++;
      if (p.ok) t.ok++;
    }
  }
  return [...inbound].flatMap(([node, into]) => {
    const mine = involved.get(node) ?? { total: 0, ok: 0 };
    const elsewhere = { total: cross.total - mine.total, ok: cross.ok - mine.ok };
    return into.total > 0 && into.ok === 0 && (elsewhere.total === 0 || elsewhere.ok > 0) ? [node] : [];
  });
}

interface Tally {
  total: number;
  ok: number;
}

function tallyOf(tallies: Map<string, Tally>, node: string): Tally {
  let t = tallies.get(node);
  if (!t) tallies.set(node, (t = { total: 0, ok: 0 }));
  return t;
}

/** CoreDNS replicas kubeadm (and kind) deploy: what scale-dns restores a Deployment scaled to zero to. */
const DNS_REPLICAS = 2;

/** Where the cluster DNS runs: ready endpoints exist, and not all of them sit on nodes the others cannot reach. */
export function checkDnsPlacement(obs: ClusterObservation): Finding[] {
  const endpoints = obs.dnsEndpoints.flatMap((s) => s.endpoints ?? []).filter((e) => e.conditions?.ready);
  if (!endpoints.length) {
    const replicas = obs.dnsDeployment?.spec?.replicas;
    const scaledToZero: Finding[] =
      replicas === 0
        ? [
            {
              kind: 'dns-scaled-to-zero',
              severity: 'critical',
              summary: 'Deployment kube-system/coredns is scaled to 0 replicas: nothing answers behind the kube-dns Service',
              evidence: [{ source: 'Deployment kube-system/coredns', observed: { replicas }, expected: { replicas: DNS_REPLICAS } }],
              repair: 'scale-dns',
              detail: { replicas: DNS_REPLICAS },
            },
          ]
        : [];
    return [
      ...scaledToZero,
      {
        kind: 'dns-no-endpoints',
        severity: 'critical',
        summary: 'the kube-dns Service has no ready endpoint',
        evidence: [{ source: 'EndpointSlices of kube-system/kube-dns', observed: obs.dnsPods.map((p) => `${p.metadata!.name} on ${p.spec?.nodeName ?? '-'} phase ${p.status?.phase}`), expected: 'at least one ready CoreDNS endpoint' }],
      },
    ];
  }
  const bad = new Set(unreachableNodes(obs));
  const dnsNodes = [...new Set(endpoints.map((e) => e.nodeName ?? '?'))];
  if (bad.size && dnsNodes.every((n) => bad.has(n))) {
    return [
      {
        kind: 'dns-on-unreachable-node',
        severity: 'critical',
        node: dnsNodes[0],
        summary: `every DNS endpoint runs on ${dnsNodes.join(', ')}, whose pod network the other nodes cannot reach: lookups time out everywhere`,
        evidence: [
          { source: 'EndpointSlices of kube-system/kube-dns', observed: endpoints.map((e) => `${e.addresses.join(',')} on ${e.nodeName}`), expected: 'DNS endpoints on reachable nodes' },
          { source: 'Deployment kube-system/coredns', observed: { nodeSelector: obs.dnsDeployment?.spec?.template.spec?.nodeSelector ?? null, affinity: obs.dnsDeployment?.spec?.template.spec?.affinity?.nodeAffinity ?? null } },
        ],
        repair: 'move-dns',
        detail: { avoid: [...bad], oldIps: endpoints.flatMap((e) => e.addresses) },
      },
    ];
  }
  return [];
}
