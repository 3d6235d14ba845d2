import type { V1DaemonSet, V1Deployment, V1Node, V1Pod } from '@kubernetes/client-node';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Kube, connect, isReady, serverSideApply } from '../../../src/kube/client.js';
import { usageError } from '../../errors.js';
import { greenPoll } from '../../green.js';
import { dockerClient } from '../../docker/client.js';
import { interruptible } from '../../interrupt.js';
import { warnOnLowInotifyLimit } from '../../preflight.js';
import { watchUntil } from '../../kube-watch.js';
import { type Poll, waitFor } from '../../wait.js';
import { probeObjects } from '../lab/addons.js';
import { kindAccess } from './access.js';
import { containerExecutor } from './docker-exec.js';
import { clusterConfig } from './cluster-config.js';
import { hostFacts } from './host.js';
import { kindDown } from './kind-down.js';
import { KindCli } from './kind-cli.js';
import { kubeFlannelManifest } from './manifests.js';
import { kindClusterName } from './names.js';
import { createClusterNetwork } from './network.js';
import { ensureKindImages } from '../../images/images.js';
import { pullNodeImage } from '../../images/pull.js';
import { type KindState, kindDir, readKindState, writeKindState } from './state.js';

export interface KindUpOptions {
  name: string;
  nodes: number;
  podsPerNode: number;
  cacheRoot: string;
  say: (line: string) => void;
  /** Per readiness step. */
  stepTimeoutMs: number;
  keepOnFailure?: boolean;
  /** kind's own node image by digest (a registry must be reachable) instead of the one built here. */
  pull?: boolean;
}

/**
 * A real kind cluster with the upstream kube-flannel.yml, from images built here: docker network,
 * `kind create cluster`, flannel, probe pods, and every wait a watch with its own timeout. On any
 * failure or Ctrl-C, everything created so far is removed before the error is reported.
 */
export async function kindUp(o: KindUpOptions): Promise<KindState> {
  await dockerClient();
  const kind = await KindCli.fromCache(o.cacheRoot);
  const clusterName = kindClusterName(o.name);
  if ((await readKindState(o.name)) || (await kind.clusters()).includes(clusterName)) {
    throw usageError(`a kind cluster named "${clusterName}" already exists`, `remove it with \`firedrill kind down --name ${o.name}\`, or pick another --name`);
  }
  warnOnLowInotifyLimit(o.say);
  const started = performance.now();
  const images = await nodeImages(o);
  const dir = kindDir(o.name);
  const state: KindState = {
    name: o.name,
    clusterName,
    network: clusterName,
    subnet: '',
    status: 'creating',
    createdAt: new Date().toISOString(),
    kubeconfig: join(dir, 'kubeconfig'),
    nodes: [],
  };
  await writeKindState(state);
  return interruptible(
    async (signal) => {
      const wait = { timeoutMs: o.stepTimeoutMs, signal };
      state.subnet = await createClusterNetwork(state.network, o.name);
      await writeKindState(state);
      const host = hostFacts();
      const configFile = join(dir, 'kind-config.json');
      await writeFile(configFile, `${JSON.stringify(clusterConfig({ clusterName, nodes: o.nodes, host, ...images.tags }), null, 2)}\n`);
      const patches = [host.cgroupV1 && 'failCgroupV1: false (cgroup v1 host)', host.lacksSysResource && 'restrict_oom_score_adj (no CAP_SYS_RESOURCE)'].filter(Boolean);
      o.say(`kind create cluster ${clusterName}: ${o.nodes} nodes from ${images.node}, docker network ${state.network} (${state.subnet})${patches.length ? `, host patches: ${patches.join(', ')}` : ''}`);
      signal.throwIfAborted();
      await kind.createCluster({ clusterName, configFile, image: images.node, kubeconfig: state.kubeconfig, network: state.network, signal });
      if (images.load.length) {
        o.say(`kind load docker-image ${images.load.join(' ')}`);
        await kind.loadImages(clusterName, images.load);
      }
      const kube = await connect(state.kubeconfig);
      state.nodes = await nodesOf(kube);
      await writeKindState(state);

      const flannel = await kubeFlannelManifest();
      o.say(`applying the upstream kube-flannel.yml (${flannel.source.flannelVersion}, unchanged) and ${o.nodes * o.podsPerNode} probe pods`);
      await serverSideApply(kube, [...(kube.lib.loadAllYaml(flannel.text) as Record<string, unknown>[]), ...probeObjects(o.nodes * o.podsPerNode, images.probe)]);

      o.say('waiting for the flannel DaemonSet to run on every node');
      await watchUntil<V1DaemonSet, true>(kube, 'the kube-flannel DaemonSet on every node', '/apis/apps/v1/namespaces/kube-flannel/daemonsets', (sets) => daemonSetReady(sets, o.nodes), wait);
      o.say('waiting for every node to be Ready with a podCIDR and flannel annotations, and for subnet.env on each');
      await watchUntil<V1Node, true>(kube, `${o.nodes} nodes Ready`, '/api/v1/nodes', (nodes) => nodesReady(nodes, o.nodes), wait);
      await Promise.all(state.nodes.map((n) => waitFor(`/run/flannel/subnet.env on ${n.name}`, () => subnetEnvPresent(n.name), { ...wait, intervalMs: 200 })));
      o.say('waiting for CoreDNS and the probe pods to be ready');
      await Promise.all([
        watchUntil<V1Deployment, true>(kube, 'CoreDNS ready', '/apis/apps/v1/namespaces/kube-system/deployments', deploymentReady('coredns'), { ...wait, query: { fieldSelector: 'metadata.name=coredns' } }),
        watchUntil<V1Pod, true>(kube, `${o.nodes * o.podsPerNode} probe pods ready`, '/api/v1/namespaces/firedrill/pods', (pods) => podsReady(pods, o.nodes * o.podsPerNode), { ...wait, query: { labelSelector: 'app=firedrill-probe' } }),
      ]);
      o.say('waiting for the all-pairs ping matrix and DNS through 10.96.0.10 to be green');
      const green = await waitFor('the probe matrix and DNS to be green', greenPoll(kube, kindAccess(state, async () => kube)), { ...wait, intervalMs: 500 });
      state.status = 'ready';
      await writeKindState(state);
      o.say(`green: ${green.ping.length} pings and ${green.dns.length} DNS lookups ok, ${Math.round((performance.now() - started) / 100) / 10}s after start`);
      return state;
    },
    async () => {
      if (o.keepOnFailure) {
        state.status = 'failed';
        await writeKindState(state);
        o.say(`kind cluster ${clusterName} kept for inspection (--keep-on-failure): \`firedrill kind down --name ${o.name}\` removes it`);
        return;
      }
      o.say(`removing the half-built kind cluster ${clusterName}`);
      await kindDown(o.name, o.say, o.cacheRoot);
      o.say(`removed ${clusterName}, its docker network and its state`);
    },
  );
}

/**
 * The node image, the probe image, what must be loaded into the nodes, and the kubeadm image tags:
 * built here, everything is inside the node image already; pulled, the probe image (firedrill's own,
 * always built here) is loaded, and kubeadm keeps its defaults, which kind's node image carries.
 */
async function nodeImages(o: KindUpOptions): Promise<{ node: string; probe: string; load: string[]; tags?: { etcdTag: string; corednsTag: string } }> {
  const say = (l: string) => o.say(`images: ${l}`);
  if (o.pull) {
    const node = await pullNodeImage({ say });
    const { probe } = await ensureKindImages({ cacheRoot: o.cacheRoot, say, only: ['probe'] });
    return { node, probe, load: [probe] };
  }
  const built = await ensureKindImages({ cacheRoot: o.cacheRoot, say });
  return { node: built.node, probe: built.probe, load: [], tags: { etcdTag: built.etcdTag, corednsTag: built.corednsTag } };
}

/** kind names a node's container as the node: its address on the cluster's docker network is the node's InternalIP. */
export async function nodesOf(kube: Kube): Promise<KindState['nodes']> {
  const nodes = (await kube.core.listNode()).items;
  return nodes
    .map((n) => ({
      name: n.metadata!.name!,
      role: n.metadata?.labels?.['node-role.kubernetes.io/control-plane'] !== undefined ? ('control-plane' as const) : ('worker' as const),
      ip: n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address ?? '',
    }))
    .sort((a, b) => (a.role === b.role ? a.name.localeCompare(b.name, 'en', { numeric: true }) : a.role === 'control-plane' ? -1 : 1));
}

function daemonSetReady(sets: V1DaemonSet[], nodes: number): Poll<true> {
  const ds = sets.find((s) => s.metadata?.name === 'kube-flannel-ds');
  if (!ds) return { done: false, reason: 'no DaemonSet kube-flannel-ds yet' };
  const s = ds.status;
  const ready = s?.numberReady ?? 0;
  return s && s.desiredNumberScheduled >= nodes && ready >= nodes ? { done: true, value: true } : { done: false, reason: `kube-flannel-ds: ${ready}/${nodes} pods ready` };
}

function nodesReady(nodes: V1Node[], count: number): Poll<true> {
  const problems = [
    ...(nodes.length < count ? [`${nodes.length}/${count} nodes registered`] : []),
    ...nodes.flatMap((n) => {
      const name = n.metadata!.name!;
      return [
        ...(isReady(n) ? [] : [`${name} not Ready`]),
        ...(n.spec?.podCIDR ? [] : [`${name} has no podCIDR`]),
        ...(n.metadata?.annotations?.['flannel.alpha.coreos.com/backend-data'] ? [] : [`${name} has no flannel annotation`]),
      ];
    }),
  ];
  return problems.length ? { done: false, reason: problems.join(', ') } : { done: true, value: true };
}

const deploymentReady =
  (name: string) =>
  (deployments: V1Deployment[]): Poll<true> => {
    const d = deployments.find((x) => x.metadata?.name === name);
    const want = d?.spec?.replicas ?? 1;
    const ready = d?.status?.readyReplicas ?? 0;
    return d && ready >= want && (d.status?.updatedReplicas ?? 0) >= want ? { done: true, value: true } : { done: false, reason: `${name}: ${ready}/${want} replicas ready` };
  };

export function podsReady(pods: V1Pod[], want: number): Poll<true> {
  const ready = pods.filter((p) => !p.metadata?.deletionTimestamp && isReady(p)).length;
  const waiting = pods.filter((p) => !isReady(p)).map((p) => `${p.metadata?.name} ${p.status?.containerStatuses?.[0]?.state?.waiting?.reason ?? p.status?.phase ?? ''}`.trim());
  return ready >= want ? { done: true, value: true } : { done: false, reason: `${ready}/${want} ready${waiting.length ? ` (${waiting.slice(0, 3).join(', ')})` : ''}` };
}

async function subnetEnvPresent(node: string): Promise<Poll<true>> {
  const r = await containerExecutor(node).exec(['cat', '/run/flannel/subnet.env'], { check: false });
  return r.exitCode === 0 && r.stdout.includes('FLANNEL_SUBNET=') ? { done: true, value: true } : { done: false, reason: r.stderr.trim() || 'no FLANNEL_SUBNET yet' };
}

