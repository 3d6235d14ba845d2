import { type ClusterAccess } from '../../src/access.js';
import { type Finding } from '../../src/findings.js';
import { type Kube } from '../../src/kube/client.js';
import { type ClusterObservation } from '../../src/observe/cluster.js';

/** What a runbook could break besides the fault: read before the fault, with the fault in place, and after the runbook. */
export interface ClusterFacts {
  /** Pods with an address, by namespace/name: their node and IP, and whether the pod still has that IP on its interface. */
  pods: Record<string, { node: string; ip: string; controlled: boolean; hasAddress: boolean }>;
  /** Ready replicas of every Deployment, by namespace/name. */
  ready: Record<string, number>;
  dnsReady: number;
  cordoned: string[];
  /** Per node: links other than pod veths, and ip rules plus the filter table's INPUT/FORWARD/OUTPUT rules. */
  links: Record<string, string[]>;
  rules: Record<string, string[]>;
  /** Findings as kind@node, with their summaries. */
  findings: Record<string, string>;
}

const WATCHED_CHAINS = ['INPUT', 'FORWARD', 'OUTPUT'];
const findingKey = (f: Finding) => `${f.kind}@${f.node ?? 'cluster'}`;

export async function takeFacts(kube: Kube, access: ClusterAccess, observation: ClusterObservation, findings: Finding[]): Promise<ClusterFacts> {
  const [pods, deployments] = await Promise.all([kube.core.listPodForAllNamespaces(), kube.apps.listDeploymentForAllNamespaces()]);
  const withIp = pods.items.filter((p) => p.status?.podIP && !p.spec?.hostNetwork && p.metadata?.deletionTimestamp === undefined);
  const entries = await Promise.all(
    withIp.map(async (p) => {
      const { namespace, name, uid } = p.metadata as { namespace: string; name: string; uid: string };
      const node = p.spec!.nodeName!;
      const ip = p.status!.podIP!;
      const out = await access
        .pod({ namespace, name, uid, node })
        .exec(['ip', '-j', '-4', 'addr', 'show'])
        .then((r) => r.stdout, () => '');
      return [`${namespace}/${name}`, { node, ip, controlled: Boolean(p.metadata?.ownerReferences?.length), hasAddress: out.includes(`"${ip}"`) }] as const;
    }),
  );
  const ready = Object.fromEntries(deployments.items.map((d) => [`${d.metadata!.namespace}/${d.metadata!.name}`, d.status?.readyReplicas ?? 0]));
  return {
    pods: Object.fromEntries(entries),
    ready,
    dnsReady: observation.dnsPods.filter((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length,
    cordoned: observation.nodes.filter((n) => n.spec?.unschedulable).map((n) => n.metadata!.name!),
    links: Object.fromEntries([...observation.state].map(([node, s]) => [node, s.links.map((l) => l.ifname).filter((n) => !n.startsWith('veth')).sort()])),
    rules: Object.fromEntries(
      [...observation.state].map(([node, s]) => [
        node,
        [
          ...s.rules.map((r) => `ip rule ${JSON.stringify(r)}`),
          ...WATCHED_CHAINS.flatMap((c) => (s.iptables.tables.filter?.[c]?.rules ?? []).map((r) => `iptables ${r.text}`)),
        ],
      ]),
    ),
    findings: Object.fromEntries(findings.map((f) => [findingKey(f), f.summary])),
  };
}

/** One thing worse than before the fault that the fault itself did not do. */
export interface Damage {
  what: 'pod-deleted' | 'pod-lost-address' | 'replicas-lost' | 'dns-replica-lost' | 'node-left-cordoned' | 'new-finding' | 'link-left' | 'link-gone' | 'rule-left' | 'rule-gone';
  node?: string;
  detail: string;
}

const minus = (a: string[] = [], ...others: (string[] | undefined)[]) => a.filter((x) => !others.some((o) => o?.includes(x)));

/**
 * Collateral damage: what is worse after the runbook than at the baseline and was not already so with
 * the fault in place (the fault's own effects are the runbook's job to undo, not its damage).
 */
export function collateral(baseline: ClusterFacts, fault: ClusterFacts, after: ClusterFacts): Damage[] {
  const damage: Damage[] = [];
  for (const [key, before] of Object.entries(baseline.pods)) {
    const now = after.pods[key];
    if (!now && !before.controlled && fault.pods[key]) damage.push({ what: 'pod-deleted', node: before.node, detail: `pod ${key} (${before.ip}) was deleted and nothing recreates it` });
    if (now && before.hasAddress && !now.hasAddress && fault.pods[key]?.hasAddress !== false) damage.push({ what: 'pod-lost-address', node: now.node, detail: `pod ${key} no longer has its address ${now.ip} on its interface` });
  }
  for (const [key, was] of Object.entries(baseline.ready)) {
    const now = after.ready[key] ?? 0;
    if (key === 'kube-system/coredns') continue;
    if (now < was && now < (fault.ready[key] ?? 0)) damage.push({ what: 'replicas-lost', detail: `deployment ${key}: ${now} ready replica(s), ${was} before the fault` });
  }
  if (after.dnsReady < baseline.dnsReady && after.dnsReady < fault.dnsReady) damage.push({ what: 'dns-replica-lost', detail: `${after.dnsReady} DNS replica(s) ready, ${baseline.dnsReady} before the fault` });
  for (const node of minus(after.cordoned, baseline.cordoned, fault.cordoned)) damage.push({ what: 'node-left-cordoned', node, detail: `node ${node} left cordoned (unschedulable)` });
  for (const key of minus(Object.keys(after.findings), Object.keys(baseline.findings), Object.keys(fault.findings))) {
    damage.push({ what: 'new-finding', node: key.split('@')[1], detail: `now failing a check: ${key}: ${after.findings[key]}` });
  }
  for (const node of Object.keys(baseline.links)) {
    for (const l of minus(after.links[node], baseline.links[node], fault.links[node])) damage.push({ what: 'link-left', node, detail: `${node}: link ${l} left behind` });
    for (const l of minus(baseline.links[node], after.links[node])) if (fault.links[node]?.includes(l)) damage.push({ what: 'link-gone', node, detail: `${node}: link ${l} deleted` });
    for (const r of minus(after.rules[node], baseline.rules[node], fault.rules[node])) damage.push({ what: 'rule-left', node, detail: `${node}: ${r} left behind` });
    for (const r of minus(baseline.rules[node], after.rules[node])) if (fault.rules[node]?.includes(r)) damage.push({ what: 'rule-gone', node, detail: `${node}: ${r} removed` });
  }
  return damage;
}

/** The fault's findings still there after the runbook: the node (or cluster) is not repaired. */
export function unrepaired(baseline: ClusterFacts, fault: ClusterFacts, after: ClusterFacts): string[] {
  return minus(Object.keys(fault.findings), Object.keys(baseline.findings))
    .filter((k) => k in after.findings)
    .map((k) => `${k}: ${after.findings[k]}`);
}
