import type { V1Pod } from '@kubernetes/client-node';
import { type Finding } from '../findings.js';
import { ipv4Of } from '../observe/ip.js';
import { type ClusterObservation } from '../observe/cluster.js';
import { podsOn, podVeths } from './cluster-facts.js';

/** cni0, the bridge the CNI bridge plugin made: present, addressed and sized as subnet.env says, with every pod veth enslaved and in hairpin mode. */
export function checkBridge(obs: ClusterObservation): Finding[] {
  const findings: Finding[] = [];
  for (const [node, o] of obs.state) {
    const gateway = o.subnetEnv?.FLANNEL_SUBNET;
    const mtu = Number(o.subnetEnv?.FLANNEL_MTU);
    const veths = podVeths(o);
    const cni0 = o.links.find((l) => l.ifname === 'cni0');
    const pods = podsOn([...obs.probePods, ...obs.dnsPods], node).length;
    if (!cni0) {
      // No pod yet is not a fault: the bridge plugin creates cni0 on the first pod ADD.
      if (!veths.length && !pods) continue;
      findings.push({
        kind: 'cni0-missing',
        severity: 'critical',
        node,
        summary: `${node}: bridge cni0 is missing; ${veths.length} pod veth(s) have no bridge`,
        evidence: [
          { source: `${node}: ip -j -d addr show`, observed: 'no cni0', expected: `bridge cni0 with ${gateway ?? 'the gateway from subnet.env'}${mtu ? `, mtu ${mtu}` : ''}` },
          { source: `${node}: ip -j -d addr show`, observed: veths.map((v) => `${v.ifname} master=${v.master ?? 'none'}`) },
        ],
        repair: 'recreate-cni0',
        detail: { gateway, mtu, veths: veths.map((v) => v.ifname) },
      });
      continue;
    }
    const problems: string[] = [];
    const addresses = ipv4Of(o.addresses, 'cni0');
    if (gateway && !addresses.includes(gateway)) problems.push(`addresses ${JSON.stringify(addresses)}, expected ${gateway}`);
    if (mtu && cni0.mtu !== mtu) problems.push(`mtu ${cni0.mtu}, expected ${mtu}`);
    if (!cni0.flags.includes('UP')) problems.push('link is down');
    if (problems.length) {
      findings.push({
        kind: 'cni0-misconfigured',
        severity: 'critical',
        node,
        summary: `${node}: cni0 ${problems.join('; ')}`,
        evidence: [{ source: `${node}: ip -j addr/link show cni0`, observed: { addresses, mtu: cni0.mtu, flags: cni0.flags }, expected: { addresses: [gateway], mtu, flags: ['UP'] } }],
        repair: 'recreate-cni0',
        detail: { gateway, mtu, veths: veths.map((v) => v.ifname) },
      });
    }
    const orphans = veths.filter((v) => v.master !== 'cni0');
    if (orphans.length) {
      findings.push({
        kind: 'veth-orphaned',
        severity: 'critical',
        node,
        summary: `${node}: ${orphans.length} pod veth(s) not attached to cni0: ${orphans.map((v) => v.ifname).join(', ')}`,
        evidence: [{ source: `${node}: ip -j -d addr show`, observed: orphans.map((v) => ({ ifname: v.ifname, master: v.master ?? null })), expected: 'master cni0' }],
        repair: 'recreate-cni0',
        detail: { gateway, mtu, veths: veths.map((v) => v.ifname) },
      });
    }
    const down = veths.filter((v) => v.master === 'cni0' && !v.flags.includes('UP'));
    if (down.length) {
      findings.push({
        kind: 'veth-down',
        severity: 'critical',
        node,
        summary: `${node}: pod veth(s) down on cni0: ${down.map((v) => v.ifname).join(', ')}: their pods are cut off`,
        evidence: [{ source: `${node}: ip -j -d addr show`, observed: down.map((v) => ({ ifname: v.ifname, flags: v.flags })), expected: 'UP' }],
        repair: 'recreate-cni0',
        detail: { gateway, mtu, veths: veths.map((v) => v.ifname) },
      });
    }
    findings.push(...podsWithoutVeth(obs, node));
    const noHairpin = veths.filter((v) => v.master === 'cni0' && v.linkinfo?.info_slave_data?.hairpin === false);
    if (noHairpin.length) {
      findings.push({
        kind: 'hairpin-off',
        severity: 'warning',
        node,
        summary: `${node}: hairpin mode off on ${noHairpin.map((v) => v.ifname).join(', ')} (the conflist asks for hairpinMode: a pod cannot reach itself through a Service)`,
        evidence: [{ source: `${node}: ip -j -d addr show`, observed: noHairpin.map((v) => ({ ifname: v.ifname, hairpin: false })), expected: { hairpin: true } }],
        repair: 'recreate-cni0',
        detail: { gateway, mtu, veths: veths.map((v) => v.ifname) },
      });
    }
  }
  return findings;
}

/**
 * Every running pod of the node has its veth on the node: fewer pod veths than the pods the
 * library knows to run there (probe and DNS pods; the node may run more) means a pod's network is
 * gone, its veth deleted or moved away. The probe matrix names it: the pod nothing reaches and that
 * reaches nothing. Nothing in place brings it back; the pod needs a new sandbox (and CNI ADD), which
 * its controller makes when the pod is deleted. A bare pod would not come back: no repair then.
 * Only as many pods are named as veths are missing: more isolated pods mean another cause, whose
 * repair comes first.
 */
function podsWithoutVeth(obs: ClusterObservation, node: string): Finding[] {
  const running = runningPods(obs, node);
  const missing = podVethShortfall(obs, node);
  if (missing <= 0) return [];
  const isolatedPods = obs.probe ? running.filter((p) => isolated(obs, p)) : [];
  const cutOff = isolatedPods.length <= missing ? isolatedPods : [];
  const owned = cutOff.filter((p) => controllerOf(p));
  const bare = cutOff.filter((p) => !controllerOf(p));
  const names = (pods: V1Pod[]) => pods.map((p) => `${p.metadata!.namespace}/${p.metadata!.name} (${p.status!.podIP})`);
  const remedy = !cutOff.length
    ? isolatedPods.length
      ? `${isolatedPods.length} pods reach nothing, more than the ${missing} veth(s) missing: repair what cuts off the others first`
      : "a pod's network is gone (run the probes to name it)"
    : `${names(cutOff).join(', ')} reach${cutOff.length === 1 ? 'es' : ''} nothing and nothing reaches ${cutOff.length === 1 ? 'it' : 'them'}. ${[
        owned.length ? `Repair: delete ${names(owned).join(', ')} so its controller makes it again with a new sandbox` : '',
        bare.length ? `${names(bare).join(', ')} has no controller to make it again: no safe repair (recreate it by hand)` : '',
      ]
        .filter(Boolean)
        .join('; ')}`;
  return [
    {
      kind: 'pod-network-missing',
      severity: 'critical',
      node,
      summary: `${node}: ${running.length} pods run here but only ${running.length - missing} pod veth(s) are on the node: ${remedy}`,
      evidence: [
        { source: `${node}: ip -j -d addr show`, observed: { podVeths: running.length - missing }, expected: { podVeths: `at least ${running.length}`, pods: names(running) } },
        ...(cutOff.length ? [{ source: 'probe matrix', observed: names(cutOff).map((n) => `${n}: every ping to and from it fails`) }] : []),
      ],
      ...(owned.length
        ? {
            repair: 'replace-pod' as const,
            detail: {
              pods: owned.map((p): PodToReplace => ({ namespace: p.metadata!.namespace!, name: p.metadata!.name!, uid: p.metadata!.uid!, controller: controllerOf(p)! })),
            },
          }
        : {}),
    },
  ];
}

/** A pod the replace-pod repair deletes, and the controller that makes it again. */
export interface PodToReplace {
  namespace: string;
  name: string;
  uid: string;
  controller: { kind: string; name: string; uid: string };
}

export function controllerOf(pod: V1Pod): PodToReplace['controller'] | undefined {
  const ref = pod.metadata?.ownerReferences?.find((r) => r.controller);
  return ref ? { kind: ref.kind, name: ref.name, uid: ref.uid } : undefined;
}

const runningPods = (obs: ClusterObservation, node: string) =>
  podsOn([...obs.probePods, ...obs.dnsPods], node).filter((p) => p.status?.phase === 'Running' && p.status.podIP && !p.spec?.hostNetwork);

/** How many of the node's running (probe and DNS) pods have no pod veth on it. */
export function podVethShortfall(obs: ClusterObservation, node: string): number {
  const o = obs.state.get(node);
  return o ? runningPods(obs, node).length - podVeths(o).length : 0;
}

function isolated(obs: ClusterObservation, pod: V1Pod): boolean {
  const ip = pod.status!.podIP;
  const to = obs.probe!.ping.filter((p) => p.targetIp === ip && p.source !== pod.metadata!.name);
  const from = obs.probe!.ping.filter((p) => p.source === pod.metadata!.name);
  return to.length > 0 && to.every((p) => !p.ok) && from.every((p) => !p.ok);
}
