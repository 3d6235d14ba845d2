import { usageError } from '../../errors.js';
import { requireRoot } from '../../preflight.js';
import { defaultCacheRoot } from '../../setup/cache.js';
import { type Backend, type Cluster } from '../backend.js';
import { labAccess } from './access.js';
import { labDown } from './lab-down.js';
import { labUp } from './lab-up.js';
import { labDir, validateLabName } from './layout.js';
import { type LabState, listLabDirs, requireState } from './state.js';

export function clusterOf(state: LabState): Cluster {
  return {
    backend: 'lab',
    name: state.name,
    kubeconfig: state.kubeconfig,
    nodes: state.nodes.map((n) => ({ name: n.name, role: n.role, ip: n.ip })),
    access: labAccess(state),
  };
}

export interface LabBackendOptions {
  cacheRoot?: string;
  dnsReplicas?: number;
  stepTimeoutMs?: number;
}

export function labBackend(options: LabBackendOptions = {}): Backend {
  return {
    name: 'lab',
    async up(request) {
      const { state } = await labUp({
        name: validateLabName(request.name),
        nodes: request.nodes,
        podsPerNode: request.podsPerNode,
        dnsReplicas: options.dnsReplicas ?? 2,
        cacheRoot: options.cacheRoot ?? defaultCacheRoot(),
        say: request.say,
        stepTimeoutMs: options.stepTimeoutMs ?? 90_000,
      });
      return clusterOf(state);
    },
    async down(name, say) {
      requireRoot('lab down');
      await labDown(validateLabName(name), say);
    },
    async get(name) {
      requireRoot('using a lab');
      const state = await requireState(validateLabName(name));
      if (state.status !== 'ready') throw usageError(`lab "${name}" is ${state.status}, not ready`, `remove it with \`firedrill lab down --name ${name}\` and create it again`);
      return clusterOf(state);
    },
    list: listLabDirs,
    stateDir: (name) => labDir(validateLabName(name)),
  };
}
