import { release } from 'node:os';
import type { V1Node } from '@kubernetes/client-node';
import { apiStatus, type Kube, patchAs } from '../../../../src/kube/client.js';

export interface NodeIdentity {
  name: string;
  role: 'control-plane' | 'worker';
  ip: string;
  kubernetesVersion: string;
  runtimeVersion: string;
}

/** Registers the Node as kubelet does with kubeadm's flags (control-plane label and taint). */
export async function registerNode(kube: Kube, node: NodeIdentity): Promise<void> {
  const controlPlane = node.role === 'control-plane';
  const body: V1Node = {
    metadata: {
      name: node.name,
      labels: {
        'kubernetes.io/hostname': node.name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'beta.kubernetes.io/os': 'linux',
        'beta.kubernetes.io/arch': 'amd64',
        ...(controlPlane ? { 'node-role.kubernetes.io/control-plane': '', 'node.kubernetes.io/exclude-from-external-load-balancers': '' } : {}),
      },
    },
    spec: controlPlane ? { taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] } : {},
  };
  try {
    await kube.core.createNode({ body });
  } catch (e) {
    if (apiStatus(e) !== 409) throw e;
  }
  await postStatus(kube, node);
}

/** The kubelet-owned part of the node status. A strategic merge keeps flanneld's NetworkUnavailable condition. */
export async function postStatus(kube: Kube, node: NodeIdentity): Promise<void> {
  const now = new Date().toISOString();
  const condition = (type: string, status: string, reason: string, message: string) => ({ type, status, reason, message, lastHeartbeatTime: now, lastTransitionTime: now });
  const resources = { cpu: '2', memory: '8Gi', pods: '110', 'ephemeral-storage': '100Gi' };
  await kube.core.patchNodeStatus(
    {
      name: node.name,
      body: {
        status: {
          capacity: resources,
          allocatable: resources,
          addresses: [
            { type: 'InternalIP', address: node.ip },
            { type: 'Hostname', address: node.name },
          ],
          conditions: [
            condition('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
            condition('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
            condition('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
            condition('Ready', 'True', 'KubeletReady', 'firedrill lab kubelet is posting ready status'),
          ],
          daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
          nodeInfo: {
            architecture: 'amd64',
            operatingSystem: 'linux',
            osImage: 'firedrill lab node (network namespace)',
            kernelVersion: release(),
            kubeletVersion: node.kubernetesVersion,
            kubeProxyVersion: node.kubernetesVersion,
            containerRuntimeVersion: node.runtimeVersion,
            machineID: '',
            systemUUID: '',
            bootID: '',
          },
        },
      },
    },
    patchAs(kube, 'strategic'),
  );
}

/** Renews kube-node-lease/<node> as kubelet does every 10 s; the node-lifecycle controller watches it. */
export async function renewLease(kube: Kube, node: string): Promise<void> {
  // MicroTime wants six fractional digits, which Date.toISOString() does not give.
  const renewTime = new Date().toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
  const patch = () =>
    kube.coordination.patchNamespacedLease({ name: node, namespace: 'kube-node-lease', body: { spec: { holderIdentity: node, leaseDurationSeconds: 40, renewTime } } }, patchAs(kube, 'merge'));
  try {
    await patch();
  } catch (e) {
    if (apiStatus(e) !== 404) throw e;
    await kube.coordination.createNamespacedLease({ namespace: 'kube-node-lease', body: { metadata: { name: node, namespace: 'kube-node-lease' }, spec: { holderIdentity: node, leaseDurationSeconds: 40 } } });
    await patch();
  }
}
