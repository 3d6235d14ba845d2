import { release } from 'node:os';
import type { V1Node } from '@kubernetes/client-node';
import { apiStatus } from '../../../../src/kube/client.js';
import { apiPath, type LabApi } from '../api.js';

export interface NodeIdentity {
  name: string;
  role: 'control-plane' | 'worker';
  ip: string;
  kubernetesVersion: string;
  runtimeVersion: string;
}

/** Registers the Node as kubelet does with kubeadm's flags (control-plane label and taint). */
export async function registerNode(api: LabApi, node: NodeIdentity): Promise<void> {
  const controlPlane = node.role === 'control-plane';
  const body: V1Node = {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: node.name,
      // kubelet's own annotation on registration; flanneld (v0.28) panics on a node with no annotations at all.
      annotations: { 'volumes.kubernetes.io/controller-managed-attach-detach': 'true' },
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
    await api.post(apiPath.nodes, body);
  } catch (e) {
    if (apiStatus(e) !== 409) throw e;
  }
  await postStatus(api, node);
}

/** The kubelet-owned part of the node status. A strategic merge keeps flanneld's NetworkUnavailable condition. */
export async function postStatus(api: LabApi, node: NodeIdentity): Promise<void> {
  const now = new Date().toISOString();
  const condition = (type: string, status: string, reason: string, message: string) => ({ type, status, reason, message, lastHeartbeatTime: now, lastTransitionTime: now });
  const resources = { cpu: '2', memory: '8Gi', pods: '110', 'ephemeral-storage': '100Gi' };
  await api.patch(
    apiPath.nodeStatus(node.name),
    {
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
    'strategic',
  );
}

/** Renews kube-node-lease/<node> as kubelet does every 10 s; the node-lifecycle controller watches it. */
export async function renewLease(api: LabApi, node: string): Promise<void> {
  // MicroTime wants six fractional digits, which Date.toISOString() does not give.
  const renewTime = new Date().toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
  const patch = () =>
    api.patch(apiPath.lease('kube-node-lease', node), { spec: { holderIdentity: node, leaseDurationSeconds: 40, renewTime } }, 'merge');
  try {
    await patch();
  } catch (e) {
    if (apiStatus(e) !== 404) throw e;
    await api.post(apiPath.leases('kube-node-lease'), { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: node, namespace: 'kube-node-lease' }, spec: { holderIdentity: node, leaseDurationSeconds: 40 } });
    await patch();
  }
}
