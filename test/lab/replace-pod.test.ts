import type { V1Pod } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { LAB_PROBE_IMAGE, PROBE_NAMESPACE } from '../../harness/backends/lab/addons.js';
import { diagnose, repairCluster } from '../../src/doctor.js';
import { isReady } from '../../src/kube/client.js';
import { podHandle, probeCluster, PROBE_SELECTOR } from '../../src/probes/probe.js';
import { failedDns, failedPings } from '../../src/probes/types.js';
import { labUnavailable, libraryLab } from '../support/lab.js';

// A pod whose network is gone (its veth moved into another node's namespace, as the fuzzer's
// pod-move does): deleted when a controller makes it again, left alone when it is a bare pod.
// Needs root and `firedrill setup`.
const LAB = 'rpod';
const unavailable = await labUnavailable();
const lab = libraryLab(LAB, unavailable);

const onNode = (node: string, ...argv: string[]) => lab.cluster.access.node(node).exec(argv);
const probePods = async () => (await lab.kube.core.listNamespacedPod(PROBE_SELECTOR)).items.filter((p) => !p.metadata?.deletionTimestamp);

/** The pod's veth on its node: the link whose index the pod's eth0 names as its peer. */
async function hostVethOf(pod: V1Pod): Promise<string> {
  const eth0 = JSON.parse((await lab.cluster.access.pod(podHandle(pod)).exec(['ip', '-j', 'link', 'show', 'eth0'])).stdout) as { link_index: number }[];
  const links = JSON.parse((await onNode(pod.spec!.nodeName!, 'ip', '-j', 'link', 'show')).stdout) as { ifindex: number; ifname: string }[];
  return links.find((l) => l.ifindex === eth0[0]!.link_index)!.ifname;
}

async function until<T>(what: string, read: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

async function expectGreen() {
  const report = await probeClusterSettled();
  expect(failedPings(report)).toEqual([]);
  expect(failedDns(report)).toEqual([]);
}

/** The matrix once every probe pod is Ready (a new pod joins it when it is). */
async function probeClusterSettled() {
  await until('every probe pod Ready', async () => ((await probePods()).every((p) => isReady(p) && p.status?.podIP) ? true : undefined));
  return probeCluster(lab.kube, lab.cluster.access);
}

describe.skipIf(unavailable)(`a pod whose network is gone (${unavailable ?? 'root and components present'})`, () => {
  let target: string;
  let other: string;

  beforeAll(async () => {
    const workers = lab.cluster.nodes.filter((n) => n.role !== 'control-plane');
    target = workers[0]!.name;
    other = lab.cluster.nodes.find((n) => n.name !== target)!.name;
  }, 300_000);

  it('deletes a probe pod whose veth was moved into another node, its ReplicaSet makes a reachable one, and the post-condition is verified', { timeout: 180_000 }, async () => {
    const pod = (await probePods()).find((p) => p.spec?.nodeName === target)!;
    await onNode(target, 'ip', 'link', 'set', await hostVethOf(pod), 'netns', other);

    const before = await diagnose(lab.kube, lab.cluster.access);
    const finding = before.findings.find((f) => f.kind === 'pod-network-missing' && f.node === target)!;
    expect(finding).toMatchObject({ repair: 'replace-pod', detail: { pods: [{ name: pod.metadata!.name, uid: pod.metadata!.uid, controller: { kind: 'ReplicaSet' } }] } });

    const outcome = await repairCluster(lab.kube, lab.cluster.access, { from: before });
    const replace = outcome.rounds.flatMap((r) => r.results).find((r) => r.plan.repair === 'replace-pod')!;
    expect(replace.steps.map((s) => s.step)).toEqual([expect.objectContaining({ kind: 'delete-pod', name: pod.metadata!.name, uid: pod.metadata!.uid })]);
    expect(replace.plan.postcondition).toEqual([expect.objectContaining({ kind: 'pod-replaced', uid: pod.metadata!.uid })]);
    expect(replace).toMatchObject({ outcome: 'repaired', unmet: [] });
    expect(outcome.unrepaired).toEqual([]);
    expect(outcome.remaining.filter((f) => f.severity === 'critical')).toEqual([]);
    expect((await probePods()).map((p) => p.metadata!.uid)).not.toContain(pod.metadata!.uid);
    await expectGreen();
  });

  it('never deletes a bare pod: the finding explains it and has no repair', { timeout: 180_000 }, async () => {
    const name = 'sq-bare';
    await lab.kube.core.createNamespacedPod({
      namespace: PROBE_NAMESPACE,
      body: { metadata: { name, labels: { app: 'firedrill-probe' } }, spec: { nodeName: target, terminationGracePeriodSeconds: 0, containers: [{ name: 'probe', image: LAB_PROBE_IMAGE }] } },
    });
    try {
      const bare = await until('the bare pod Ready', async () => (await probePods()).find((p) => p.metadata!.name === name && isReady(p) && p.status?.podIP));
      await expectGreen();
      await onNode(target, 'ip', 'link', 'set', await hostVethOf(bare), 'netns', other);

      const before = await diagnose(lab.kube, lab.cluster.access);
      const finding = before.findings.find((f) => f.kind === 'pod-network-missing' && f.node === target)!;
      expect(finding.summary).toContain(`${PROBE_NAMESPACE}/${name}`);
      expect(finding.summary).toContain('no controller');
      expect(finding.repair).toBeUndefined();

      const outcome = await repairCluster(lab.kube, lab.cluster.access, { from: before });
      expect(outcome.rounds.flatMap((r) => r.plans).map((p) => p.repair)).not.toContain('replace-pod');
      expect(outcome.remaining.map((f) => `${f.kind}@${f.node}`)).toContain(`pod-network-missing@${target}`);
      expect((await probePods()).find((p) => p.metadata!.name === name)?.metadata?.uid).toBe(bare.metadata!.uid);
    } finally {
      await lab.kube.core.deleteNamespacedPod({ namespace: PROBE_NAMESPACE, name }).catch(() => undefined);
    }
  });
});
