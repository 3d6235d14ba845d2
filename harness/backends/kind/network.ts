import { z } from 'zod';
import { overlaps } from '../../../src/checks/netfilter.js';
import { run } from '../../../src/exec.js';
import { failure } from '../../errors.js';
import { dockerClient } from '../../docker/client.js';

/** Every docker object firedrill creates carries this label (value: the firedrill cluster name), so prune finds exactly those. */
export const DOCKER_LABEL = 'io.firedrill.cluster';

/**
 * Drill clusters get their own docker network in 172.30.0.0/16, one /24 each: away from kind's
 * default `kind` network (172.18.0.0/16, which the lab's underlay also uses inside its namespace)
 * and from every route and docker network already on the host.
 */
const POOL = { base: '172.30', size: 256 };

export async function createClusterNetwork(network: string, name: string): Promise<string> {
  const docker = await dockerClient();
  const used = await usedPrefixes();
  for (let i = 0; i < POOL.size; i++) {
    const subnet = `${POOL.base}.${i}.0/24`;
    if (used.some((u) => overlaps(u, subnet))) continue;
    try {
      await docker.network.create({ Name: network, Driver: 'bridge', CheckDuplicate: true, IPAM: { Config: [{ Subnet: subnet }] }, Labels: { [DOCKER_LABEL]: name }, Options: { 'com.docker.network.driver.mtu': '1500' } });
      return subnet;
    } catch (e) {
      if (!/overlap/i.test((e as Error).message)) throw failure(`cannot create the docker network ${network}: ${(e as Error).message}`);
    }
  }
  throw failure(`no free /24 left in ${POOL.base}.0.0/16 for the docker network of ${name}`, 'remove old drill clusters: `firedrill prune`');
}

export async function removeClusterNetwork(network: string): Promise<void> {
  const docker = await dockerClient();
  try {
    await docker.network.remove(docker.network.getById(network));
  } catch (e) {
    if ((e as { statusCode?: number }).statusCode !== 404) throw failure(`cannot remove the docker network ${network}: ${(e as Error).message}`);
  }
}

/** The networks firedrill created (by label). */
export async function labelledNetworks(): Promise<string[]> {
  const docker = await dockerClient();
  const nets = await docker.container.dockerode.listNetworks({ filters: { label: [DOCKER_LABEL] } });
  return nets.map((n) => n.Name);
}

const Routes = z.array(z.object({ dst: z.string() }));

async function usedPrefixes(): Promise<string[]> {
  const docker = await dockerClient();
  const routes = Routes.parse(JSON.parse((await run(['ip', '-j', '-4', 'route', 'show', 'table', 'all'])).stdout));
  const nets = await docker.container.dockerode.listNetworks();
  return [
    ...routes.map((r) => r.dst).filter((d) => /^\d+\.\d+\.\d+\.\d+\/\d+$/.test(d)),
    ...nets.flatMap((n) => n.IPAM?.Config?.map((c) => c.Subnet ?? '') ?? []).filter((s) => s.includes('.')),
  ];
}
