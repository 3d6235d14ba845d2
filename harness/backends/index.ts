import { usageError } from '../errors.js';
import { type Backend } from './backend.js';
import { kindBackend } from './kind/backend.js';
import { labBackend } from './lab/backend.js';

export const BACKENDS = ['lab', 'kind'] as const;

/** The backend a --backend flag names. */
export function backendNamed(name: string, options: { pull?: boolean } = {}): Backend {
  switch (name) {
    case 'lab':
      return labBackend();
    case 'kind':
      return kindBackend(options.pull ? { pull: true } : {});
    default:
      throw usageError(`unknown backend "${name}"`, `backends: ${BACKENDS.join(', ')} (lab: network namespaces on this host, fast; kind: real kind clusters in Docker)`);
  }
}
