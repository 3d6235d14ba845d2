import { connect } from '../../../src/kube/client.js';
import { usageError } from '../../errors.js';
import { defaultCacheRoot } from '../../setup/cache.js';
import { type Backend, type Cluster } from '../backend.js';
import { validateLabName } from '../lab/layout.js';
import { kindAccess } from './access.js';
import { KindCli } from './kind-cli.js';
import { kindDown } from './kind-down.js';
import { kindUp } from './kind-up.js';
import { kindClusterName } from './names.js';
import { type KindState, kindDir, listKindStates, readKindState } from './state.js';

export function clusterOf(state: KindState): Cluster {
  let kube: ReturnType<typeof connect> | undefined;
  return {
    backend: 'kind',
    name: state.name,
    kubeconfig: state.kubeconfig,
    nodes: state.nodes,
    access: kindAccess(state, () => (kube ??= connect(state.kubeconfig))),
  };
}

export interface KindBackendOptions {
  cacheRoot?: string;
  stepTimeoutMs?: number;
  keepOnFailure?: boolean;
  /** Pull kind's own node image by digest instead of building one (see `firedrill image build --pull`). */
  pull?: boolean;
}

/** Real kind clusters with the upstream flannel manifest; firedrill acts only on the ones it created (`firedrill-<name>`). */
export function kindBackend(options: KindBackendOptions = {}): Backend & { exportLogs(name: string, dir: string): Promise<void> } {
  const cacheRoot = options.cacheRoot ?? defaultCacheRoot();
  return {
    name: 'kind',
    async up(request) {
      const state = await kindUp({
        name: validateLabName(request.name),
        nodes: request.nodes,
        podsPerNode: request.podsPerNode,
        cacheRoot,
        say: request.say,
        stepTimeoutMs: options.stepTimeoutMs ?? 180_000,
        ...(options.keepOnFailure ? { keepOnFailure: true } : {}),
        ...(options.pull ? { pull: true } : {}),
      });
      return clusterOf(state);
    },
    down: (name, say) => kindDown(validateLabName(name), say, cacheRoot),
    async get(name) {
      const state = await readKindState(validateLabName(name));
      if (!state) throw usageError(`no kind cluster "${name}" made by firedrill on this machine`, `create one: \`firedrill kind up --name ${name}\` (or \`firedrill run --backend kind --keep\`)`);
      if (state.status !== 'ready') throw usageError(`kind cluster "${name}" is ${state.status}, not ready`, `remove it with \`firedrill kind down --name ${name}\` and create it again`);
      return clusterOf(state);
    },
    list: async () => (await listKindStates()).map((s) => s.name),
    stateDir: (name) => kindDir(validateLabName(name)),
    async exportLogs(name, dir) {
      const kind = await KindCli.fromCache(cacheRoot);
      const clusterName = kindClusterName(validateLabName(name));
      if (!(await kind.clusters()).includes(clusterName)) throw usageError(`no kind cluster ${clusterName} to take logs from`, '`firedrill kind list` shows the clusters firedrill made');
      await kind.exportLogs(clusterName, dir);
    },
  };
}
