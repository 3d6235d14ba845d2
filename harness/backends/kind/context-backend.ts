import { usageError } from '../../errors.js';
import { defaultCacheRoot } from '../../setup/cache.js';
import { type Backend } from '../backend.js';
import { type AdoptOptions, adoptedDir, adoptKindCluster } from './adopt.js';

/**
 * A kind cluster firedrill did not create, behind the Backend interface: it is always running
 * (so `run` and `validate` use it and never create or remove it), and getting it checks the
 * confirmation and adds the probe pods it lacks; the cluster's `release` takes them away again.
 */
export function contextBackend(o: Pick<AdoptOptions, 'context' | 'confirm' | 'kubeconfig' | 'say'>): Backend {
  const never = (what: string) => usageError(`firedrill never ${what} a cluster named with --context (${o.context})`, 'use `firedrill kind up`/`kind down` for clusters firedrill makes');
  return {
    name: 'kind',
    up: () => Promise.reject(never('creates')),
    down: () => Promise.reject(never('removes')),
    get: () => adoptKindCluster({ ...o, cacheRoot: defaultCacheRoot() }),
    list: async () => [o.context],
    stateDir: () => adoptedDir(o.context),
  };
}
