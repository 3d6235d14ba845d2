import { run } from '../../src/exec.js';
import { dockerAnswers } from '../../harness/docker/client.js';
import { kindClusterName } from '../../harness/backends/kind/names.js';
import { components } from '../../harness/components.js';
import { defaultCacheRoot, inspect } from '../../harness/setup/cache.js';

/** Why the kind tests cannot run here, or undefined when they can (CI starts Docker in ci/setup, so there they run). */
export async function kindUnavailable(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'needs root';
  if (!(await dockerAnswers())) return 'needs a Docker engine, and none answers (./ci/docker-engine start starts one)';
  const states = await Promise.all(components().map((c) => inspect(defaultCacheRoot(), c)));
  const missing = components().filter((_, i) => states[i]!.state !== 'ok');
  if (missing.length) return `needs the pinned components (run \`firedrill setup\`): missing ${missing.map((c) => c.name).join(', ')}`;
  return undefined;
}

/** What is left of a firedrill kind cluster on this machine: node containers, its docker network, host rules. */
export async function kindLeftovers(name: string): Promise<string[]> {
  const cluster = kindClusterName(name);
  const containers = (await run(['docker', 'ps', '-a', '--filter', `label=io.x-k8s.kind.cluster=${cluster}`, '--format', '{{.Names}}'])).stdout.split('\n').filter(Boolean);
  const networks = (await run(['docker', 'network', 'ls', '--filter', `name=^${cluster}$`, '--format', '{{.Name}}'])).stdout.split('\n').filter(Boolean);
  const rules = (await run(['iptables-save'])).stdout.split('\n').filter((l) => l.includes(`firedrill:${name}`));
  return [...containers.map((c) => `container ${c}`), ...networks.map((n) => `network ${n}`), ...rules.map((r) => `host rule ${r}`)];
}
