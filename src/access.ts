import { type CommandResult, type RunOptions } from './exec.js';

/** Runs an argv on one machine of the cluster: a lab namespace, a docker container, a kind node. */
export interface Executor {
  exec(argv: readonly string[], options?: RunOptions): Promise<CommandResult>;
  /** Runs several argvs side by side in one round trip, where one round trip costs more than the commands (a container exec). */
  batch?(argvs: readonly (readonly string[])[], options?: RunOptions): Promise<CommandResult[]>;
}

/** Several argvs on one machine, side by side: in one round trip when the executor can batch. */
export function execAll(executor: Executor, argvs: readonly (readonly string[])[], options?: RunOptions): Promise<CommandResult[]> {
  return executor.batch ? executor.batch(argvs, options) : Promise.all(argvs.map((argv) => executor.exec(argv, options)));
}

export interface PodHandle {
  namespace: string;
  name: string;
  uid: string;
  node: string;
}

/**
 * How the library reaches a cluster, whatever backend made it: the API (a kubeconfig) and
 * "run an argv" on a node, or inside a pod's network namespace.
 */
export interface ClusterAccess {
  name: string;
  kubeconfig: string;
  node(name: string): Executor;
  pod(pod: PodHandle): Executor;
  /** Where a node keeps flannel's and CNI's files (a kind node: /run/flannel/subnet.env…). */
  nodeFiles(name: string): NodeFiles;
  /** Restarts a node's flanneld or kubelet, as `systemctl restart` or deleting its pod would. */
  restart(node: string, component: 'flanneld' | 'kubelet'): Promise<void>;
  /**
   * The network between the nodes (a lab's underlay, the host's bridge for kind), where a fault outside
   * every node is injected; absent when the backend has none to offer. Rules put there carry the
   * comment `networkRuleLabel(name)`: a backend may refuse others, and cleanup finds them by it.
   */
  network?: Executor;
}

export const networkRuleLabel = (clusterName: string) => `firedrill:${clusterName}`;

export interface NodeFiles {
  subnetEnv: string;
  cniConflist: string;
  /** The flannel CNI plugin's dataDir (/var/lib/cni/flannel on a kind node). */
  flannelDataDir: string;
}
