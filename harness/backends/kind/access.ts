import { type ClusterAccess, type PodHandle } from '../../../src/access.js';
import { CommandError, type RunOptions } from '../../../src/exec.js';
import type { V1Pod } from '@kubernetes/client-node';
import { type Kube, isReady } from '../../../src/kube/client.js';
import { failure } from '../../errors.js';
import { watchUntil } from '../../kube-watch.js';
import { waitFor } from '../../wait.js';
import { containerExecutor } from './docker-exec.js';
import { hostNetwork } from './host-network.js';
import { type KindState } from './state.js';

/**
 * The library's view of a kind cluster: a node is its container (kind names it as the node), a pod is its
 * container's namespaces entered from the node (nsenter), so pod commands use the pod image's tools.
 */
export function kindAccess(state: KindState, kube: () => Promise<Kube>): ClusterAccess {
  const nodes = state.nodes.map((n) => n.name);
  const node = (name: string) => {
    if (!nodes.includes(name)) throw new Error(`kind cluster ${state.clusterName} has no node ${name} (nodes: ${nodes.join(', ')})`);
    return containerExecutor(name);
  };
  const pids = new Map<string, string>();
  const containerPid = async (pod: PodHandle): Promise<string> => {
    const known = pids.get(pod.uid);
    if (known) return known;
    const n = node(pod.node);
    const ids = (await n.exec(['crictl', 'ps', '--state', 'running', '--label', `io.kubernetes.pod.uid=${pod.uid}`, '-q'])).stdout.split('\n').filter(Boolean);
    if (!ids.length) throw failure(`pod ${pod.namespace}/${pod.name} has no running container on ${pod.node}`);
    const pid = (await n.exec(['crictl', 'inspect', '-o', 'go-template', '--template', '{{.info.pid}}', ids.at(-1)!])).stdout.trim();
    if (!/^\d+$/.test(pid)) throw failure(`crictl inspect gave no pid for pod ${pod.namespace}/${pod.name}'s container: ${pid}`);
    pids.set(pod.uid, pid);
    return pid;
  };
  return {
    name: state.name,
    kubeconfig: state.kubeconfig,
    node,
    pod(pod) {
      const inPod = async (argv: readonly string[], options: RunOptions | undefined) =>
        node(pod.node).exec(['nsenter', '-t', await containerPid(pod), '-n', '-m', '--', ...argv], { ...options, check: false });
      return {
        async exec(argv, options) {
          let r = await inPod(argv, options);
          // A restarted container has a new pid: look it up again, once.
          if (r.exitCode !== 0 && /^nsenter: /m.test(r.stderr)) {
            pids.delete(pod.uid);
            r = await inPod(argv, options);
          }
          if (options?.check !== false && r.exitCode !== 0) throw new CommandError(r, `exited with status ${r.exitCode} (in pod ${pod.namespace}/${pod.name})`);
          return r;
        },
      };
    },
    nodeFiles: () => ({ subnetEnv: '/run/flannel/subnet.env', cniConflist: '/etc/cni/net.d/10-flannel.conflist', flannelDataDir: '/var/lib/cni/flannel' }),
    async restart(nodeName, component) {
      if (component === 'kubelet') {
        // The naive runbook's `systemctl restart containerd kubelet`, as on a real node.
        await node(nodeName).exec(['systemctl', 'restart', 'containerd', 'kubelet'], { timeoutMs: 120_000 });
        pids.clear();
        // systemctl returns before containerd serves CRI again ("server is not initialized yet"):
        // the node is back when it does, as an SRE would check with crictl.
        await waitFor(
          `containerd's CRI on ${nodeName} after the restart`,
          async () => {
            const r = await node(nodeName).exec(['crictl', 'ps', '-q'], { check: false });
            return r.exitCode === 0 ? { done: true, value: true } : { done: false, reason: r.stderr.trim().split('\n').at(-1) ?? `exit ${r.exitCode}` };
          },
          { timeoutMs: 60_000, intervalMs: 200 },
        );
        return;
      }
      await restartFlannelPod(await kube(), nodeName);
    },
    network: hostNetwork(state.name),
  };
}

/** flanneld runs in the kube-flannel DaemonSet: restarting it is deleting the node's pod and waiting for its successor to be ready. */
async function restartFlannelPod(kube: Kube, nodeName: string): Promise<void> {
  const query = { labelSelector: 'app=flannel', fieldSelector: `spec.nodeName=${nodeName}` };
  const old = (await kube.core.listNamespacedPod({ namespace: 'kube-flannel', ...query })).items;
  if (!old.length) throw failure(`no flannel pod on ${nodeName}`);
  await Promise.all(old.map((p) => kube.core.deleteNamespacedPod({ namespace: 'kube-flannel', name: p.metadata!.name!, gracePeriodSeconds: 0 })));
  const gone = new Set(old.map((p) => p.metadata!.uid));
  await watchUntil<V1Pod, true>(
    kube,
    `a new flannel pod on ${nodeName}`,
    '/api/v1/namespaces/kube-flannel/pods',
    (pods) => (pods.some((p) => !gone.has(p.metadata!.uid) && isReady(p)) ? { done: true, value: true } : { done: false, reason: 'no new flannel pod ready yet' }),
    { timeoutMs: 120_000, query },
  );
}
