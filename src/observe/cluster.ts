import type { V1Deployment, V1EndpointSlice, V1Node, V1Pod } from '@kubernetes/client-node';
import { type ClusterAccess } from '../access.js';
import { type Kube } from '../kube/client.js';
import { mapLimit } from '../parallel.js';
import { DNS_SELECTOR, PROBE_SELECTOR } from '../probes/probe.js';
import { type ProbeReport } from '../probes/types.js';
import { type NodeObservation, NodeUnreadError, observeNode } from './node.js';

/** One snapshot of everything the checks read: API objects, every node's kernel state, and (optionally) a probe run. */
export interface ClusterObservation {
  at: string;
  durationMs: number;
  nodes: V1Node[];
  dnsPods: V1Pod[];
  probePods: V1Pod[];
  dnsEndpoints: V1EndpointSlice[];
  dnsDeployment?: V1Deployment;
  state: Map<string, NodeObservation>;
  /** Nodes whose state could not be read this time, and why: absent from `state`, so no check judges them. */
  unread?: Record<string, string>;
  probe?: ProbeReport;
}

/** Nodes read at once: a node's read is a dozen commands side by side (one exec where the backend batches). */
export const NODE_CONCURRENCY = 8;

export interface ObserveOptions {
  /** Read only these nodes' state (a triage: the nodes the probe matrix points at); the others are neither read nor unread. */
  only?: readonly string[];
}

export async function observeCluster(kube: Kube, access: ClusterAccess, options: ObserveOptions = {}): Promise<ClusterObservation> {
  const started = performance.now();
  const unread: Record<string, string> = {};
  const read = (names: readonly string[]) =>
    mapLimit(names, NODE_CONCURRENCY, (n) =>
      observeNode(n, access.node(n), access.nodeFiles(n)).catch((e: unknown) => {
        // One node that cannot be read now (a slow moment, a node going away) must not blind the diagnosis of the others.
        if (!(e instanceof NodeUnreadError)) throw e;
        unread[n] = e.reasons.join('; ');
        return undefined;
      }),
    );
  // Nodes named in advance are read while the API answers.
  const early = options.only ? read(options.only) : undefined;
  const [nodes, dnsPods, probePods, slices, deployment] = await Promise.all([
    kube.core.listNode(),
    kube.core.listNamespacedPod(DNS_SELECTOR),
    kube.core.listNamespacedPod(PROBE_SELECTOR),
    kube.discovery.listNamespacedEndpointSlice({ namespace: 'kube-system', labelSelector: 'kubernetes.io/service-name=kube-dns' }),
    kube.apps.readNamespacedDeployment({ namespace: 'kube-system', name: 'coredns' }).catch(() => undefined),
  ]);
  const observations = await (early ?? read(nodes.items.map((n) => n.metadata!.name!)));
  return {
    at: new Date().toISOString(),
    durationMs: Math.round(performance.now() - started),
    nodes: nodes.items,
    dnsPods: dnsPods.items,
    probePods: probePods.items,
    dnsEndpoints: slices.items,
    ...(deployment ? { dnsDeployment: deployment } : {}),
    state: new Map(observations.filter((o) => o !== undefined).map((o) => [o.node, o])),
    ...(Object.keys(unread).length ? { unread } : {}),
  };
}
