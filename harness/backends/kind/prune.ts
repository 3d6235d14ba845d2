import { dockerAnswers, dockerClient } from '../../docker/client.js';
import { pruneAdopted } from './adopt.js';
import { removeHostRules } from './kind-down.js';
import { KindCli } from './kind-cli.js';
import { KIND_PREFIX } from './names.js';
import { labelledNetworks, removeClusterNetwork } from './network.js';
import { removeAllKindState } from './state.js';

/**
 * Removes every kind cluster firedrill made (`firedrill-*`), the docker networks it labelled, the
 * host rules it labelled (`firedrill:*`), the kind state, and the probe pods it added to clusters named
 * with --context: what a crashed run may have left. Clusters firedrill did not make are not removed. Without a Docker engine there is nothing of kind to remove.
 */
export async function pruneKind(say: (line: string) => void, cacheRoot: string): Promise<void> {
  const rules = await removeHostRules((comment) => comment.startsWith('firedrill:'));
  if (rules) say(`removed ${rules} host iptables rule(s) labelled firedrill:*`);
  await pruneAdopted(say);
  await removeAllKindState();
  if (!(await dockerAnswers())) return;
  const kind = await KindCli.fromCache(cacheRoot).catch(() => undefined);
  const clusters = kind ? (await kind.clusters()).filter((c) => c.startsWith(KIND_PREFIX)) : await clustersFromContainers();
  for (const c of clusters) {
    say(`removing kind cluster ${c}`);
    if (kind) await kind.deleteCluster(c);
    else await removeNodeContainers(c);
  }
  for (const network of await labelledNetworks()) {
    say(`removing docker network ${network}`);
    await removeClusterNetwork(network);
  }
}

const KIND_CLUSTER_LABEL = 'io.x-k8s.kind.cluster';

/** Without the kind binary, its node containers still carry kind's cluster label. */
async function clustersFromContainers(): Promise<string[]> {
  const containers = await (await dockerClient()).container.dockerode.listContainers({ all: true, filters: { label: [KIND_CLUSTER_LABEL] } });
  return [...new Set(containers.map((c) => c.Labels[KIND_CLUSTER_LABEL] ?? '').filter((c) => c.startsWith(KIND_PREFIX)))];
}

async function removeNodeContainers(cluster: string): Promise<void> {
  const docker = await dockerClient();
  const containers = await docker.container.dockerode.listContainers({ all: true, filters: { label: [`${KIND_CLUSTER_LABEL}=${cluster}`] } });
  await Promise.all(containers.map((c) => docker.container.getById(c.Id).remove({ force: true, v: true })));
}
