import { chmod, mkdir, readFile, readdir, rm, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { z } from 'zod';
import { networkRuleLabel } from '../../../src/access.js';
import { tryParseJson } from '../../../src/json.js';
import { type Kube, connect, serverSideApply } from '../../../src/kube/client.js';
import { dockerClient } from '../../docker/client.js';
import { failure, usageError } from '../../errors.js';
import { ensureKindImages } from '../../images/images.js';
import { watchUntil } from '../../kube-watch.js';
import { waitFor } from '../../wait.js';
import { type Cluster } from '../backend.js';
import { PROBE_NAMESPACE, probeObjects } from '../lab/addons.js';
import { stateRoot } from '../lab/layout.js';
import { clusterOf } from './backend.js';
import { removeHostRules } from './kind-down.js';
import { KindCli } from './kind-cli.js';
import { nodesOf, podsReady } from './kind-up.js';
import { type KindState } from './state.js';

export interface AdoptOptions {
  /** A kubeconfig context of a kind cluster firedrill did not create (`kind-<cluster>`). */
  context: string;
  /** Must repeat `context`: drills inject real faults into the cluster's nodes. */
  confirm?: string | undefined;
  /** The kubeconfig holding `context` (default: $KUBECONFIG, else ~/.kube/config). */
  kubeconfig?: string | undefined;
  cacheRoot: string;
  say: (line: string) => void;
}

/** What firedrill added to a cluster it did not create, recorded so that `prune` removes it after a crash. */
const Added = z.object({ context: z.string(), clusterName: z.string(), kubeconfig: z.string(), probeNamespace: z.boolean() });
type Added = z.infer<typeof Added>;

const adoptedRoot = () => join(stateRoot(), 'kind-adopted');
export const adoptedDir = (context: string) => join(adoptedRoot(), context);
/** On the probe namespace firedrill creates in a cluster it did not create: it deletes only a namespace carrying it. */
const ADDED_LABEL = 'io.firedrill.added';

/**
 * A kind cluster firedrill did not create, named by its kubeconfig context and confirmed by repeating
 * it: checked to be a kind cluster on this Docker running flannel's vxlan backend, with probe pods
 * added (and the probe image loaded) when it has none. The cluster's `release` removes what was added.
 */
export async function adoptKindCluster(o: AdoptOptions): Promise<Cluster> {
  if (o.confirm !== o.context) {
    throw usageError(
      `--context ${o.context} names a cluster firedrill did not create, and drills and repairs change its nodes for real`,
      o.confirm === undefined ? `if that is what you mean, confirm it by repeating the name: --confirm-context ${o.context}` : `--confirm-context says "${o.confirm}": it must repeat --context exactly`,
    );
  }
  const clusterName = kindClusterOfContext(o.context);
  const server = await contextServer(o.context, o.kubeconfig);
  const kind = await KindCli.fromCache(o.cacheRoot);
  if (!(await kind.clusters()).includes(clusterName)) throw usageError(`context ${o.context} names kind cluster ${clusterName}, which this machine's Docker does not run`, '`kind get clusters` lists the kind clusters here');
  const kindConfig = await kind.kubeconfig(clusterName);
  const kindServer = /^\s*server:\s*(\S+)/m.exec(kindConfig)?.[1];
  if (kindServer !== server) throw usageError(`context ${o.context} points at ${server}, but kind cluster ${clusterName}'s API server is ${kindServer ?? 'unknown'}`, 'refusing to guess which cluster you mean: fix the context, or use `kind export kubeconfig --name ' + clusterName + '`');

  const dir = adoptedDir(o.context);
  await mkdir(dir, { recursive: true });
  const kubeconfig = join(dir, 'kubeconfig');
  await writeFile(kubeconfig, kindConfig);
  await chmod(kubeconfig, 0o600);
  const kube = await connect(kubeconfig);
  await requireFlannelVxlan(kube, o.context);
  const nodes = await nodesOf(kube);
  await requireNodeContainers(clusterName, nodes.map((n) => n.name));
  const state: KindState = { name: o.context, clusterName, network: '', subnet: '', status: 'ready', createdAt: new Date().toISOString(), kubeconfig, nodes };
  const added: Added = { context: o.context, clusterName, kubeconfig, probeNamespace: false };
  if (!(await hasProbePods(kube))) {
    added.probeNamespace = true;
    await writeAdded(added);
    await addProbePods(kube, kind, clusterName, nodes.length, o);
  }
  return { ...clusterOf(state), release: () => releaseAdopted(added, o.say) };
}

/** kind names the context of a cluster `kind-<cluster>`; firedrill acts on no other kind of cluster. */
export function kindClusterOfContext(context: string): string {
  const m = /^kind-(.+)$/.exec(context);
  if (!m) throw usageError(`context ${context} is not a kind cluster's (kind names them kind-<cluster>)`, 'firedrill drills only kind clusters: its own (`firedrill kind up`) or one named with --context kind-<cluster>');
  return m[1]!;
}

async function contextServer(context: string, file: string | undefined): Promise<string> {
  const { KubeConfig } = await import('@kubernetes/client-node');
  const config = new KubeConfig();
  const source = file ?? (process.env.KUBECONFIG || '~/.kube/config');
  try {
    if (file) config.loadFromFile(file);
    else config.loadFromDefault();
  } catch (e) {
    throw usageError(`cannot read the kubeconfig ${source}: ${(e as Error).message}`, 'give the file with --kubeconfig FILE');
  }
  const ctx = config.getContextObject(context);
  if (!ctx) throw usageError(`no context "${context}" in ${source}`, `contexts there: ${config.getContexts().map((c) => c.name).join(', ') || 'none'}`);
  const server = config.getCluster(ctx.cluster)?.server;
  if (!server) throw usageError(`context ${context} in ${source} names cluster "${ctx.cluster}", which has no server`);
  return server;
}

async function requireFlannelVxlan(kube: Kube, context: string): Promise<void> {
  const ds = await kube.apps.readNamespacedDaemonSet({ namespace: 'kube-flannel', name: 'kube-flannel-ds' }).catch(() => undefined);
  if (!ds) throw usageError(`the cluster of context ${context} runs no flannel (no DaemonSet kube-flannel/kube-flannel-ds)`, 'firedrill drills flannel vxlan clusters: apply the upstream kube-flannel.yml, or let `firedrill kind up` make one');
  const netConf = (await kube.core.readNamespacedConfigMap({ namespace: 'kube-flannel', name: 'kube-flannel-cfg' }).catch(() => undefined))?.data?.['net-conf.json'];
  const type = /"Type"\s*:\s*"([^"]+)"/.exec(netConf ?? '')?.[1];
  if (type !== 'vxlan') throw usageError(`the cluster of context ${context} runs flannel's ${type ?? 'unknown'} backend`, "firedrill's incidents are flannel vxlan incidents");
}

/** kind names each node's container as the node: the library reaches a node through its container. */
async function requireNodeContainers(clusterName: string, nodes: string[]): Promise<void> {
  const containers = await (await dockerClient()).container.dockerode.listContainers({ filters: { label: [`io.x-k8s.kind.cluster=${clusterName}`] } });
  const names = new Set(containers.flatMap((c) => c.Names.map((n) => n.replace(/^\//, ''))));
  const missing = nodes.filter((n) => !names.has(n));
  if (missing.length) throw failure(`kind cluster ${clusterName} has nodes without a running container of the same name: ${missing.join(', ')}`);
}

async function hasProbePods(kube: Kube): Promise<boolean> {
  const pods = await kube.core.listNamespacedPod({ namespace: PROBE_NAMESPACE, labelSelector: 'app=firedrill-probe' }).catch(() => undefined);
  return !!pods?.items.length;
}

async function addProbePods(kube: Kube, kind: KindCli, clusterName: string, nodes: number, o: AdoptOptions): Promise<void> {
  const images = await ensureKindImages({ cacheRoot: o.cacheRoot, say: (l) => o.say(`images: ${l}`) });
  o.say(`loading ${images.probe} into ${clusterName} and adding ${nodes * 2} probe pods in namespace ${PROBE_NAMESPACE} (removed when done)`);
  await kind.loadImages(clusterName, [images.probe]);
  const objects = probeObjects(nodes * 2, images.probe).map((obj) =>
    obj.kind === 'Namespace' ? { ...obj, metadata: { ...(obj.metadata as object), labels: { [ADDED_LABEL]: 'true' } } } : obj,
  );
  await serverSideApply(kube, objects);
  await watchUntil<V1Pod, true>(kube, `${nodes * 2} probe pods ready`, `/api/v1/namespaces/${PROBE_NAMESPACE}/pods`, (pods) => podsReady(pods, nodes * 2), {
    timeoutMs: 180_000,
    query: { labelSelector: 'app=firedrill-probe' },
  });
}

async function writeAdded(added: Added): Promise<void> {
  await writeFile(join(adoptedDir(added.context), 'added.json'), `${JSON.stringify(added, null, 2)}\n`);
}

/** Removes the probe namespace firedrill added (only if it carries firedrill's label) and the host rules it labelled, then its record. */
async function releaseAdopted(added: Added, say: (line: string) => void): Promise<void> {
  if (added.probeNamespace) {
    const kube = await connect(added.kubeconfig);
    const ns = await kube.core.readNamespace({ name: PROBE_NAMESPACE }).catch(() => undefined);
    if (ns?.metadata?.labels?.[ADDED_LABEL] === 'true') {
      say(`removing namespace ${PROBE_NAMESPACE}: the probe pods firedrill added to ${added.clusterName}`);
      await kube.core.deleteNamespace({ name: PROBE_NAMESPACE });
      await waitFor(
        `namespace ${PROBE_NAMESPACE} to be gone from ${added.clusterName}`,
        async () => ((await kube.core.readNamespace({ name: PROBE_NAMESPACE }).catch(() => undefined)) ? { done: false, reason: 'still terminating' } : { done: true, value: true }),
        { timeoutMs: 120_000, intervalMs: 500 },
      );
    }
  }
  await removeHostRules((comment) => comment === networkRuleLabel(added.context));
  // What `inject` recorded stays for `restore`; prune removes it too.
  await Promise.all(['added.json', 'kubeconfig'].map((f) => rm(join(adoptedDir(added.context), f), { force: true })));
  await rmdir(adoptedDir(added.context)).catch(() => undefined);
}

/** After a crash: what firedrill added to clusters it did not create. */
export async function pruneAdopted(say: (line: string) => void): Promise<void> {
  for (const context of await readdir(adoptedRoot()).catch(() => [] as string[])) {
    const text = await readFile(join(adoptedDir(context), 'added.json'), 'utf8').catch(() => undefined);
    const added = Added.safeParse(tryParseJson(text ?? '')).data;
    if (added) await releaseAdopted(added, say).catch((e: unknown) => say(`could not remove what firedrill added to ${added.clusterName}: ${(e as Error).message}`));
    await rm(adoptedDir(context), { recursive: true, force: true });
  }
}
