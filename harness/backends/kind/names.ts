/** Every kind cluster firedrill creates is named `firedrill-<name>`: prune removes exactly those. */
export const KIND_PREFIX = 'firedrill-';
export const kindClusterName = (name: string) => `${KIND_PREFIX}${name}`;
