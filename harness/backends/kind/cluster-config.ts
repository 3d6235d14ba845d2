import { type HostFacts } from './host.js';

export const POD_SUBNET = '10.244.0.0/16';
export const SERVICE_SUBNET = '10.96.0.0/16';

export interface ClusterConfigOptions {
  clusterName: string;
  nodes: number;
  host: HostFacts;
  /** Tags of the images firedrill built whose version differs from kubeadm's default (none with kind's own node image). */
  etcdTag?: string;
  corednsTag?: string;
}

/**
 * The kind Cluster config for one drill cluster: no default CNI (flannel is applied from its
 * upstream manifest), flannel's pod subnet, one control plane and nodes-1 workers, the etcd and
 * CoreDNS tags of images built here, and only the patches this host needs.
 */
export function clusterConfig(o: ClusterConfigOptions): Record<string, unknown> {
  const kubeadmConfigPatches = [
    ...(o.etcdTag && o.corednsTag ? [`kind: ClusterConfiguration\netcd:\n  local:\n    imageTag: "${o.etcdTag}"\ndns:\n  imageTag: "${o.corednsTag}"\n`] : []),
    ...(o.host.cgroupV1 ? ['kind: KubeletConfiguration\nfailCgroupV1: false\n'] : []),
  ];
  // What kind does for rootless nodes: containerd clamps oom_score_adj instead of failing the sandbox.
  const containerdConfigPatches = o.host.lacksSysResource ? ['[plugins."io.containerd.grpc.v1.cri"]\n  restrict_oom_score_adj = true\n'] : [];
  return {
    kind: 'Cluster',
    apiVersion: 'kind.x-k8s.io/v1alpha4',
    name: o.clusterName,
    networking: { disableDefaultCNI: true, podSubnet: POD_SUBNET, serviceSubnet: SERVICE_SUBNET },
    nodes: [{ role: 'control-plane' }, ...Array.from({ length: o.nodes - 1 }, () => ({ role: 'worker' }))],
    ...(kubeadmConfigPatches.length ? { kubeadmConfigPatches } : {}),
    ...(containerdConfigPatches.length ? { containerdConfigPatches } : {}),
  };
}
