import { type ClusterAccess, type Executor } from '../../../src/access.js';
import { batchSharingFiles } from '../../../src/batch.js';
import { type RunOptions, run } from '../../../src/exec.js';
import { labPaths, podNetns } from './layout.js';
import { restartProcess } from './processes.js';
import { type LabState, readState, writeState } from './state.js';

/** The library's view of a lab: a node is its network namespace, a pod is its own namespace. */
export function labAccess(state: LabState): ClusterAccess {
  const netnsOf = new Map(state.nodes.map((n) => [n.name, n.netns]));
  const inNetns = (netns: string): Executor => {
    const exec = (argv: readonly string[], options?: RunOptions) => run(['ip', 'netns', 'exec', netns, ...argv], options);
    // Entering a namespace costs a process per argv: a node's reads share one, and, the files being
    // this host's, leave their output in files instead of printing it encoded.
    return { exec, batch: batchSharingFiles(exec, `in netns ${netns}`) };
  };
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
    network: inNetns(state.underlay.netns),
    async restart(node, component) {
      const current = await readState(state.name);
      const name = component === 'kubelet' ? 'lab-kubelet' : component;
      const index = current?.processes.findLastIndex((p) => p.name === name && p.node === node) ?? -1;
      if (!current || index < 0) throw new Error(`lab ${state.name} has no ${name} on ${node}`);
      current.processes[index] = await restartProcess(state.name, current.processes[index]!);
      await writeState(current);
    },
    nodeFiles(name) {
      const np = labPaths(state.name).node(name);
      return { subnetEnv: np.subnetEnv, cniConflist: np.cniConflist, flannelDataDir: np.flannelDataDir };
    },
  };
}
