import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpuGroupPath } from '../../harness/backends/lab/cpu-group.js';
import { labDown } from '../../harness/backends/lab/lab-down.js';
import { labUp } from '../../harness/backends/lab/lab-up.js';
import { labelledProcesses } from '../../harness/backends/lab/processes.js';
import { labStatus } from '../../harness/backends/lab/status.js';
import { type LabState, readState } from '../../harness/backends/lab/state.js';
import { labAccess } from '../../harness/backends/lab/access.js';
import { defaultCacheRoot } from '../../harness/setup/cache.js';
import { waitFor } from '../../harness/wait.js';
import { connect, isReady, type Kube, patchAs } from '../../src/kube/client.js';
import { ipv4Of } from '../../src/observe/ip.js';
import { observeNode, type NodeObservation } from '../../src/observe/node.js';
import { probeCluster } from '../../src/probes/probe.js';
import { failedDns, failedPings, isGreen } from '../../src/probes/types.js';
import { labUnavailable, leftovers } from '../support/lab.js';

// A real 3-node lab, asserted from the kernel and the API. Needs root and `firedrill setup`.
const LAB = 'fdt';
const unavailable = await labUnavailable();
let state: LabState;
let kube: Kube;

const observe = async (node: string): Promise<NodeObservation> => observeNode(node, labAccess(state).node(node), labAccess(state).nodeFiles(node));
const BACKEND_DATA = 'flannel.alpha.coreos.com/backend-data';

describe.skipIf(unavailable)(`lab backend (${unavailable ?? 'root and components present'})`, () => {
  beforeAll(async () => {
    await labDown(LAB, () => undefined);
    ({ state } = await labUp({ name: LAB, nodes: 3, podsPerNode: 2, dnsReplicas: 2, cacheRoot: defaultCacheRoot(), say: () => undefined, stepTimeoutMs: 120_000 }));
    kube = await connect(state.kubeconfig);
  }, 300_000);

  afterAll(async () => {
    await labDown(LAB, () => undefined);
    expect(await leftovers(LAB)).toEqual([]);
  }, 60_000);

  it('runs flannel.1 as flanneld makes it: vxlan id 1, port 8472, nolearning, MTU 1450, with its /32 address', async () => {
    for (const node of state.nodes) {
      const o = await observe(node.name);
      const vxlan = o.links.find((l) => l.ifname === 'flannel.1');
      expect(vxlan?.linkinfo?.info_kind, node.name).toBe('vxlan');
      expect(vxlan?.linkinfo?.info_data).toMatchObject({ id: 1, port: 8472, learning: false, local: node.ip, link: 'eth0' });
      expect(vxlan?.mtu).toBe(1450);
      expect(ipv4Of(o.addresses, 'flannel.1')).toHaveLength(1);
    }
  });

  it('programs one PERMANENT neighbour, FDB entry and onlink route per peer on every node, matching the peers\' real flannel.1', async () => {
    const nodes = (await kube.core.listNode()).items;
    const observations = await Promise.all(state.nodes.map((n) => observe(n.name)));
    const vtep = new Map(observations.map((o) => [o.node, o.links.find((l) => l.ifname === 'flannel.1')!.address!]));
    for (const o of observations) {
      for (const peer of nodes.filter((n) => n.metadata!.name !== o.node)) {
        const peerName = peer.metadata!.name!;
        const peerVtepIp = peer.spec!.podCIDR!.replace(/\/\d+$/, '');
        const peerMac = vtep.get(peerName)!;
        const neigh = o.neighbours.filter((n) => n.dev === 'flannel.1' && n.dst === peerVtepIp);
        expect(neigh, `${o.node} -> ${peerName}`).toHaveLength(1);
        expect(neigh[0]).toMatchObject({ lladdr: peerMac, state: ['PERMANENT'] });
        const fdb = o.fdb.filter((f) => f.ifname === 'flannel.1' && f.mac === peerMac);
        expect(fdb, `${o.node} fdb for ${peerName}`).toHaveLength(1);
        expect(fdb[0]).toMatchObject({ dst: state.nodes.find((n) => n.name === peerName)!.ip, state: 'permanent' });
        const route = o.routes.find((r) => r.dst === peer.spec!.podCIDR);
        expect(route).toMatchObject({ gateway: peerVtepIp, dev: 'flannel.1', flags: ['onlink'] });
      }
      expect(o.neighbours.filter((n) => n.dev === 'flannel.1')).toHaveLength(state.nodes.length - 1);
    }
  });

  it("annotates each Node with its own flannel.1's MAC and the node's address", async () => {
    for (const node of (await kube.core.listNode()).items) {
      const o = await observe(node.metadata!.name!);
      const mac = o.links.find((l) => l.ifname === 'flannel.1')!.address;
      expect(JSON.parse(node.metadata!.annotations![BACKEND_DATA]!)).toEqual({ VNI: 1, VtepMAC: mac });
      expect(node.metadata!.annotations!['flannel.alpha.coreos.com/public-ip']).toBe(state.nodes.find((n) => n.name === node.metadata!.name)!.ip);
    }
  });

  it('gives each node cni0 with the first address of its podCIDR, forwarding on, and FLANNEL-FWD in FORWARD', async () => {
    for (const node of (await kube.core.listNode()).items) {
      const o = await observe(node.metadata!.name!);
      const gateway = node.spec!.podCIDR!.replace(/0\/24$/, '1/24');
      expect(ipv4Of(o.addresses, 'cni0')).toEqual([gateway]);
      expect(o.sysctls['net.ipv4.ip_forward']).toBe('1');
      expect(o.iptables.tables.filter!.FORWARD!.rules.some((r) => r.target === 'FLANNEL-FWD')).toBe(true);
      expect(o.iptables.tables.filter!['FLANNEL-FWD']!.rules.map((r) => r.target)).toEqual(['ACCEPT', 'ACCEPT']);
      expect(o.subnetEnv).toMatchObject({ FLANNEL_NETWORK: '10.244.0.0/16', FLANNEL_SUBNET: gateway, FLANNEL_MTU: '1450', FLANNEL_IPMASQ: 'true' });
    }
  });

  it('has a green probe matrix: every pod reaches every pod and gateway, and DNS answers through 10.96.0.10', async () => {
    const report = await probeCluster(kube, labAccess(state));
    expect(failedPings(report)).toEqual([]);
    expect(failedDns(report)).toEqual([]);
    // 6 probe pods: each pings 5 probe pods, 2 DNS pods and 3 gateways.
    expect(report.ping).toHaveLength(6 * (5 + 2 + 3));
    expect(report.dns).toHaveLength(6);
  });

  it('reports its nodes, pods (two probe pods on each node), DNS endpoints and components in lab status', async () => {
    const status = await labStatus(state);
    expect(status.nodes.map((n) => n.name)).toEqual(['fdt-control-plane', 'fdt-worker', 'fdt-worker2']);
    expect(status.nodes.every((n) => n.ready && n.podCIDR && n.vtepMAC)).toBe(true);
    expect(status.dns.endpoints).toHaveLength(2);
    expect(status.components.filter((c) => c.name === 'flanneld').map((c) => c.running)).toEqual([true, true, true]);
    const probes = status.pods.filter((p) => p.namespace === 'firedrill' && p.ready);
    expect(probes).toHaveLength(6);
    // Two per node: a node without pods has no cni0, and its gateway never answers.
    expect(probes.map((p) => p.node).sort()).toEqual(status.nodes.flatMap((n) => [n.name, n.name]).sort());
  });

  it("reprograms the peers' neighbour entries when a node's VtepMAC annotation is patched (real flanneld reacting)", async () => {
    const target = state.nodes[1]!.name;
    const node = await kube.core.readNode({ name: target });
    const original = node.metadata!.annotations![BACKEND_DATA]!;
    const vtepIp = node.spec!.podCIDR!.replace(/\/\d+$/, '');
    const wrong = '02:de:ad:be:ef:01';
    const setMac = (value: string) =>
      kube.core.patchNode({ name: target, body: { metadata: { annotations: { [BACKEND_DATA]: value } } } }, patchAs(kube, 'merge'));
    const peersSee = async (mac: string) => {
      const obs = await Promise.all(state.nodes.filter((n) => n.name !== target).map((n) => observe(n.name)));
      return obs.every((o) => o.neighbours.some((n) => n.dev === 'flannel.1' && n.dst === vtepIp && n.lladdr === mac));
    };
    await setMac(JSON.stringify({ VNI: 1, VtepMAC: wrong }));
    await waitFor('peers to program the wrong MAC', async () => ((await peersSee(wrong)) ? { done: true, value: true } : { done: false, reason: 'not yet' }), { timeoutMs: 15_000 });
    await setMac(original);
    const originalMac = (JSON.parse(original) as { VtepMAC: string }).VtepMAC;
    await waitFor('peers to program the right MAC again', async () => ((await peersSee(originalMac)) ? { done: true, value: true } : { done: false, reason: 'not yet' }), { timeoutMs: 15_000 });
  });

  it('recreates a deleted CoreDNS pod through its Deployment, and DNS recovers', async () => {
    const before = (await kube.core.listNamespacedPod({ namespace: 'kube-system', labelSelector: 'k8s-app=kube-dns' })).items;
    const victim = before[0]!;
    await kube.core.deleteNamespacedPod({ name: victim.metadata!.name!, namespace: 'kube-system' });
    await waitFor(
      'a replacement CoreDNS pod, ready',
      async () => {
        const pods = (await kube.core.listNamespacedPod({ namespace: 'kube-system', labelSelector: 'k8s-app=kube-dns' })).items;
        const ready = pods.filter((p) => p.metadata!.uid !== victim.metadata!.uid && isReady(p));
        const gone = !pods.some((p) => p.metadata!.uid === victim.metadata!.uid);
        return ready.length === 2 && gone ? { done: true, value: true } : { done: false, reason: `${ready.length} ready, old pod gone: ${gone}` };
      },
      { timeoutMs: 30_000 },
    );
    const report = await waitFor(
      'DNS green again',
      async () => {
        const r = await probeCluster(kube, labAccess(state));
        return isGreen(r) ? { done: true, value: r } : { done: false, reason: `${failedDns(r).length} DNS failures` };
      },
      { timeoutMs: 30_000 },
    );
    expect(failedDns(report)).toEqual([]);
  });

  it('once up, runs node daemons and pods at niceness 19, each in a session niced alike, the control plane at 0; a restarted flanneld keeps it', async () => {
    // Without autogroup scheduling there is no session niceness: the process's own is what counts.
    const niceness = async (pid: number) => {
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
      const own = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
      const session = /nice (-?\d+)/.exec(await readFile(`/proc/${pid}/autogroup`, 'utf8').catch(() => ''))?.[1];
      return [own, session === undefined ? own : Number(session)];
    };
    // From the state file: the daemons' own children (a CNI plugin the kubelet runs) carry their label too.
    const recorded = (await readState(LAB))!.processes;
    const of = (name: string) => Promise.all(recorded.filter((p) => p.name === name).map((p) => niceness(p.pid)));
    for (const daemon of ['flanneld', 'kube-proxy', 'lab-kubelet']) expect(await of(daemon), daemon).toEqual([[19, 19], [19, 19], [19, 19]]);
    for (const component of ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler']) expect(await of(component), component).toEqual([[0, 0]]);
    const coredns = (await labelledProcesses(LAB)).filter((p) => p.component.startsWith('kube-system/coredns-'));
    expect(await Promise.all(coredns.map((p) => niceness(p.pid)))).toEqual([[19, 19], [19, 19]]);

    const node = state.nodes[1]!.name;
    const before = (await readState(LAB))!.processes.find((p) => p.name === 'flanneld' && p.node === node)!;
    await labAccess(state).restart(node, 'flanneld');
    const after = (await readState(LAB))!.processes.find((p) => p.name === 'flanneld' && p.node === node)!;
    expect(after.pid).not.toBe(before.pid);
    expect(await niceness(after.pid)).toEqual([19, 19]);
  });

  it('once up, runs flanneld in the lab\'s idle CPU group, kube-proxy, the kubelets, pods and control plane outside it; a restarted flanneld rejoins it', async () => {
    const group = await cpuGroupPath(LAB);
    if (!group) throw new Error('this test needs a cgroup file system with the cpu controller (v1, or v2 with cpu delegated from its root) and cpu.idle (Linux 5.15)');
    // /proc/PID/cgroup: "N:cpu,cpuacct:/path" on v1, "0::/path" on v2.
    const cpuGroupOf = async (pid: number) => {
      const lines = (await readFile(`/proc/${pid}/cgroup`, 'utf8')).split('\n').filter(Boolean);
      const line = lines.find((l) => l.split(':')[1]!.split(',').includes('cpu')) ?? lines.find((l) => l.startsWith('0::'))!;
      return line.split(':').slice(2).join(':');
    };
    const name = `/${basename(group)}`;
    const recorded = (await readState(LAB))!.processes;
    const of = (component: string) => Promise.all(recorded.filter((p) => p.name === component).map((p) => cpuGroupOf(p.pid)));
    expect(await of('flanneld')).toEqual([name, name, name]);
    for (const component of ['kube-proxy', 'lab-kubelet', 'etcd', 'kube-apiserver']) expect(await of(component), component).not.toContain(name);
    const coredns = (await labelledProcesses(LAB)).filter((p) => p.component.startsWith('kube-system/coredns-'));
    expect(await Promise.all(coredns.map((p) => cpuGroupOf(p.pid)))).not.toContain(name);
    expect(await readFile(join(group, 'cpu.idle'), 'utf8')).toBe('1\n');

    const node = state.nodes[2]!.name;
    await labAccess(state).restart(node, 'flanneld');
    const after = (await readState(LAB))!.processes.find((p) => p.name === 'flanneld' && p.node === node)!;
    expect(await cpuGroupOf(after.pid)).toBe(name);
  });
});
