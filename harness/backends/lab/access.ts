import { type ClusterAccess } from '../../../src/access.js';
import { run } from '../../../src/exec.js';
import { labPaths, podNetns } from './layout.js';
import { type LabState } from './state.js';

/** The library's view of a lab: a node is its network namespace, a pod is its own namespace. */
export function labAccess(state: LabState): ClusterAccess {
  const netnsOf = new Map(state.nodes.map((n) => [n.name, n.netns]));
  const inNetns = (netns: string) => ({ exec: (argv: readonly string[], options?: Parameters<typeof run>[1]) => run(['ip', 'netns', 'exec', netns, ...argv], options) });
  return {
    name: state.name,
    kubeconfig: state.kubeconfig,
    node(name) {
      const netns = netnsOf.get(name);
      if (!netns) throw new Error(`lab ${state.name} has no node ${name} (nodes: ${[...netnsOf.keys()].join(', ')})`);
      return inNetns(netns);
    },
    pod(pod) {
      return inNetns(podNetns(state.name, pod.uid));
    },
    nodeFiles(name) {
      const np = labPaths(state.name).node(name);
      return { subnetEnv: np.subnetEnv, cniConflist: np.cniConflist };
    },
  };
}
