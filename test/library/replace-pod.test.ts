import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { type ClusterAccess } from '../../src/access.js';
import { runChecks } from '../../src/checks/index.js';
import { type ClusterObservation } from '../../src/observe/cluster.js';
import { describeStep } from '../../src/repairs/plan.js';
import { planRepairs } from '../../src/repairs/planner.js';
import { type Expectation, unmet } from '../../src/repairs/postcondition.js';
import { healthyLab, node } from '../support/fixtures.js';

// pod-network-missing and its repair on a real healthy lab snapshot: a probe pod on fd-worker
// loses its veth (moved away), and the probe matrix shows it cut off.
const noAccess = {} as ClusterAccess;

function cutOff(obs: ClusterObservation, pod: V1Pod) {
  const w = node(obs, 'fd-worker');
  const veth = w.links.find((l) => l.linkinfo?.info_kind === 'veth' && l.master === 'cni0')!;
  w.links = w.links.filter((l) => l !== veth);
  for (const p of obs.probe!.ping) if (p.targetIp === pod.status!.podIP || p.source === pod.metadata!.name) p.ok = false;
}

const podOnWorker = (obs: ClusterObservation) => obs.probePods.find((p) => p.spec!.nodeName === 'fd-worker')!;
const missing = (obs: ClusterObservation) => runChecks(obs).filter((f) => f.kind === 'pod-network-missing');

describe('a pod whose network is gone', () => {
  it('is deleted, uid-checked, when a controller owns it; the post-condition waits for a Ready replacement with its veth', async () => {
    const obs = healthyLab();
    const pod = podOnWorker(obs);
    cutOff(obs, pod);
    const plans = await planRepairs(missing(obs), obs, noAccess);
    expect(plans.map((p) => [p.repair, p.node, p.steps.map(describeStep)])).toEqual([['replace-pod', 'fd-worker', [`kubectl -n firedrill delete pod ${pod.metadata!.name} (uid ${pod.metadata!.uid})`]]]);
    const expectation = plans[0]!.postcondition[0] as Extract<Expectation, { kind: 'pod-replaced' }>;
    expect(expectation).toMatchObject({ kind: 'pod-replaced', uid: pod.metadata!.uid, controller: { kind: 'ReplicaSet' }, pods: obs.probePods.length });
    expect(plans[0]!.settleMs).toBeGreaterThan(0);

    // Not while the old pod is there; not while its replacement has no veth on its node; then yes.
    expect(unmet([expectation], obs)).toHaveLength(1);
    const replaced = healthyLab();
    expect(unmet([expectation], replaced)).toHaveLength(1);
    replaced.probePods = replaced.probePods.map((p) => (p.metadata!.uid === pod.metadata!.uid ? { ...p, metadata: { ...p.metadata, uid: 'new-uid', name: 'probe-new' } } : p));
    expect(unmet([expectation], replaced)).toEqual([]);
    const noVeth = healthyLab();
    noVeth.probePods = replaced.probePods;
    const w = node(noVeth, 'fd-worker');
    w.links = w.links.filter((l) => l !== w.links.find((x) => x.linkinfo?.info_kind === 'veth' && x.master === 'cni0'));
    expect(unmet([expectation], noVeth)[0]!.observed).toMatchObject({ oldPod: 'gone', nodesShort: ['fd-worker'] });
  });

  it('is never deleted when it is a bare pod: explained, no repair', async () => {
    const obs = healthyLab();
    const pod = podOnWorker(obs);
    delete pod.metadata!.ownerReferences;
    cutOff(obs, pod);
    const findings = missing(obs);
    expect(findings.map((f) => f.repair)).toEqual([undefined]);
    expect(findings[0]!.summary).toContain(`firedrill/${pod.metadata!.name} (${pod.status!.podIP}) has no controller to make it again: no safe repair`);
    expect(await planRepairs(findings, obs, noAccess)).toEqual([]);
  });

  it('names no pod when more pods are cut off than veths are missing: another cause cuts them off', async () => {
    const obs = healthyLab();
    const pod = podOnWorker(obs);
    cutOff(obs, pod);
    for (const other of obs.probePods.filter((p) => p.spec!.nodeName === 'fd-worker' && p !== pod)) {
      for (const p of obs.probe!.ping) if (p.targetIp === other.status!.podIP || p.source === other.metadata!.name) p.ok = false;
    }
    const findings = missing(obs);
    expect(findings.map((f) => f.repair)).toEqual([undefined]);
    expect(findings[0]!.summary).toContain('repair what cuts off the others first');
  });
});
