import { type Backend, type Cluster } from '../backends/backend.js';
import { backendNamed } from '../backends/index.js';
import { contextBackend } from '../backends/kind/context-backend.js';
import { validateLabName } from '../backends/lab/layout.js';
import { usageError } from '../errors.js';
import { interruptible } from '../interrupt.js';
import { sayProgress } from '../progress.js';

/** How a command names its cluster: a backend and a name, or a kind cluster's context (confirmed by repeating it). */
export interface ClusterFlags {
  backend: string;
  name: string;
  context?: string;
  confirmContext?: string;
  kubeconfig?: string;
  /** kind: kind's own node image by digest instead of the one built here. */
  pull?: boolean;
}

const say = sayProgress;

/** The backends and the cluster name the flags choose. --context stands for one kind cluster firedrill did not create. */
export function chooseClusters(flags: ClusterFlags): { backends: Backend[]; name: string } {
  const names = [...new Set(flags.backend.split(',').map((b) => b.trim()))];
  if (!flags.context) {
    if (flags.confirmContext || flags.kubeconfig) throw usageError(`${flags.confirmContext ? '--confirm-context' : '--kubeconfig'} goes with --context`, 'name the kind cluster with --context kind-<cluster> --confirm-context kind-<cluster>');
    return { backends: names.map((b) => backendNamed(b, { pull: !!flags.pull })), name: validateLabName(flags.name) };
  }
  // --backend defaults to lab: with --context it can only mean kind.
  if (names.length > 1 || !['lab', 'kind'].includes(names[0]!)) throw usageError(`--context names one kind cluster; it does not go with --backend ${flags.backend}`, 'leave --backend out, or give --backend kind');
  return { backends: [contextBackend({ context: flags.context, confirm: flags.confirmContext, kubeconfig: flags.kubeconfig, say })], name: flags.context };
}

/** One backend and cluster name, for a command that acts on one cluster. */
export function chooseCluster(flags: ClusterFlags): { backend: Backend; name: string } {
  const { backends, name } = chooseClusters(flags);
  if (backends.length !== 1) throw usageError(`this command acts on one cluster, not on --backend ${flags.backend}`, 'give one backend: lab or kind');
  return { backend: backends[0]!, name };
}

/** The flags that name the same cluster again, for a command a message suggests. */
export function clusterArgs(flags: ClusterFlags, backend = flags.backend, name = flags.name): string {
  return flags.context ? `--context ${flags.context} --confirm-context ${flags.context}${flags.kubeconfig ? ` --kubeconfig ${flags.kubeconfig}` : ''}` : `--backend ${backend} --name ${name}`;
}

/** The one running cluster the flags name, for a command that acts on it and is done; what firedrill added to it is removed afterwards. */
export async function withRunningCluster<T>(flags: ClusterFlags, body: (cluster: Cluster, backend: Backend) => Promise<T>): Promise<T> {
  const { backend, name } = chooseCluster(flags);
  const cluster = await backend.get(name);
  const { release } = cluster;
  if (!release) return body(cluster, backend);
  // On Ctrl-C the process exits once the body has ended and the release is done.
  return interruptible(
    async () => {
      try {
        return await body(cluster, backend);
      } finally {
        await release();
      }
    },
    async () => {},
  );
}
