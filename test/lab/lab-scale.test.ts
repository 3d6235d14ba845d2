import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labAccess } from '../../harness/backends/lab/access.js';
import { labDown } from '../../harness/backends/lab/lab-down.js';
import { labUp } from '../../harness/backends/lab/lab-up.js';
import { type LabState } from '../../harness/backends/lab/state.js';
import { defaultCacheRoot } from '../../harness/setup/cache.js';
import { connect, isReady, type Kube } from '../../src/kube/client.js';
import { observeNode } from '../../src/observe/node.js';
import { probeCluster } from '../../src/probes/probe.js';
import { failedDns, failedPings } from '../../src/probes/types.js';
import { labUnavailable, leftovers } from '../support/lab.js';

// A lab larger than the default 3 nodes: every component real on each of 10 nodes, all of
// them started at once. Needs root and `firedrill setup`. Timing aims live in the bench.
const LAB = 'scale';
const NODES = 10;
const unavailable = await labUnavailable();
let state: LabState;
let kube: Kube;

describe.skipIf(unavailable)(`a ${NODES}-node lab (${unavailable ?? 'root and components present'})`, () => {
  beforeAll(async () => {
    await labDown(LAB, () => undefined);
    ({ state } = await labUp({ name: LAB, nodes: NODES, podsPerNode: 2, dnsReplicas: 2, cacheRoot: defaultCacheRoot(), say: () => undefined, stepTimeoutMs: 240_000 }));
    kube = await connect(state.kubeconfig);
  }, 600_000);

  afterAll(async () => {
    await labDown(LAB, () => undefined);
  }, 120_000);

  it(`registers ${NODES} Ready nodes, each with its own podCIDR and flannel's annotation`, async () => {
    const nodes = (await kube.core.listNode()).items;
    expect(nodes.map((n) => n.metadata!.name).sort()).toEqual(state.nodes.map((n) => n.name).sort());
    for (const n of nodes) {
      expect(isReady(n), n.metadata!.name).toBe(true);
      expect(n.metadata?.annotations?.['flannel.alpha.coreos.com/backend-data'], n.metadata!.name).toBeTruthy();
    }
    expect(new Set(nodes.map((n) => n.spec?.podCIDR)).size).toBe(NODES);
  });

  it('runs a flanneld, a kube-proxy and a lab kubelet on every node', () => {
    for (const component of ['flanneld', 'kube-proxy', 'lab-kubelet']) {
      expect(state.processes.filter((p) => p.name === component).map((p) => p.node).sort(), component).toEqual(state.nodes.map((n) => n.name).sort());
    }
  });

  it(`programs every peer on every node: ${NODES - 1} flannel.1 neighbours and onlink routes each`, async () => {
    const access = labAccess(state);
    const observations = await Promise.all(state.nodes.map((n) => observeNode(n.name, access.node(n.name), access.nodeFiles(n.name))));
    for (const o of observations) {
      expect(o.neighbours.filter((n) => n.dev === 'flannel.1' && n.state?.includes('PERMANENT')), o.node).toHaveLength(NODES - 1);
      expect(o.routes.filter((r) => r.dev === 'flannel.1' && r.flags?.includes('onlink')), o.node).toHaveLength(NODES - 1);
    }
  });

  it('pings every pod from every pod and resolves through 10.96.0.10 from every pod', async () => {
    const report = await probeCluster(kube, labAccess(state));
    const probes = (await kube.core.listNamespacedPod({ namespace: 'firedrill', labelSelector: 'app=firedrill-probe' })).items.map((p) => p.metadata!.name!);
    expect(probes).toHaveLength(NODES * 2);
    const pinged = new Set(report.ping.map((p) => `${p.source} -> ${p.target}`));
    const missing = probes.flatMap((a) => probes.filter((b) => b !== a && !pinged.has(`${a} -> ${b}`)).map((b) => `${a} -> ${b}`));
    expect(missing).toEqual([]);
    expect(failedPings(report)).toEqual([]);
    expect(failedDns(report)).toEqual([]);
  });

  it('lab down leaves no process, namespace or state behind', async () => {
    const report = await labDown(LAB, () => undefined);
    expect(report.namespaces).toBeGreaterThanOrEqual(NODES + 1 + NODES * 2);
    expect(await leftovers(LAB)).toEqual([]);
  }, 120_000);
});
