import { type ComponentSpec, type Manifest, manifest } from '../components.js';

/**
 * The images a kind drill cluster runs, under the names kind, kubeadm and the upstream
 * kube-flannel.yml use, so nothing upstream needs editing. firedrill's own images are under
 * firedrill/ and never shadow a real kindest/node.
 */

/** The pause tag `kubeadm config images list --kubernetes-version v1.36.1` names; `image build` checks it. */
export const KUBEADM_PAUSE_TAG = '3.10.2';
/** The sandbox_image of kind v0.32.0's containerd config (images/base/files/etc/containerd/config.toml); checked at build. */
export const KIND_SANDBOX_IMAGE = 'registry.k8s.io/pause:3.10';

/** Every image `firedrill image build` makes, by key; each value lists its references, the first being the one to run. */
export type ImageKey =
  | 'debian-node'
  | 'debian-slim'
  | 'static-base'
  | 'kube-apiserver'
  | 'kube-controller-manager'
  | 'kube-scheduler'
  | 'kube-proxy'
  | 'etcd'
  | 'coredns'
  | 'pause'
  | 'flannel'
  | 'flannel-cni-plugin'
  | 'probe'
  | 'kind-base'
  | 'kind-node';

/** The images imported into the node image's containerd, so a cluster needs no `kind load`. */
export const NODE_IMPORTED: readonly ImageKey[] = [
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'kube-proxy',
  'etcd',
  'coredns',
  'pause',
  'flannel',
  'flannel-cni-plugin',
  'probe',
];

export interface KindImages {
  /** The node image for `kind create cluster --image`. */
  node: string;
  /** The image of the probe pods (fping, busybox nslookup, dig, ip, ping; it only waits). */
  probe: string;
  /** etcd.local.imageTag for kubeadm: firedrill's etcd, which differs from kubeadm's default (3.6.8-0 for v1.36.1). */
  etcdTag: string;
  /** dns.imageTag for kubeadm: firedrill's CoreDNS (kubeadm v1.36.1's default is the same v1.14.2). */
  corednsTag: string;
  /** Every reference inside the node image's containerd (control plane, pause, flannel, probe). */
  imported: string[];
  /** The node image and every reference inside it: what a kind drill cluster runs. */
  all: string[];
  /** Every image reference built, intermediate ones included, by key. */
  byKey: Record<ImageKey, string[]>;
}

function component(m: Manifest, name: string): ComponentSpec {
  const c = m.components[name];
  if (!c) throw new Error(`harness/components.json has no component "${name}" (the kind images need it)`);
  return c;
}

/** The image references of the kind backend, as a function of the manifest. */
export function kindImages(m: Manifest = manifest): KindImages {
  const kube = component(m, 'kubernetes').version;
  const etcdTag = `${component(m, 'etcd').version.replace(/^v/, '')}-0`;
  const corednsTag = component(m, 'coredns').version;
  const byKey: Record<ImageKey, string[]> = {
    'debian-node': ['firedrill/debian:bookworm-node'],
    'debian-slim': ['firedrill/debian:bookworm-slim'],
    'static-base': ['firedrill/static-base:bookworm'],
    'kube-apiserver': [`registry.k8s.io/kube-apiserver:${kube}`],
    'kube-controller-manager': [`registry.k8s.io/kube-controller-manager:${kube}`],
    'kube-scheduler': [`registry.k8s.io/kube-scheduler:${kube}`],
    'kube-proxy': [`registry.k8s.io/kube-proxy:${kube}`],
    etcd: [`registry.k8s.io/etcd:${etcdTag}`],
    coredns: [`registry.k8s.io/coredns/coredns:${corednsTag}`],
    pause: [`registry.k8s.io/pause:${KUBEADM_PAUSE_TAG}`, KIND_SANDBOX_IMAGE],
    flannel: [`ghcr.io/flannel-io/flannel:${component(m, 'flannel').version}`],
    'flannel-cni-plugin': [`ghcr.io/flannel-io/flannel-cni-plugin:${component(m, 'flannel-cni-plugin').version}`],
    probe: ['firedrill/probe:v1'],
    'kind-base': [`firedrill/kind-base:${m.kind.version}`],
    'kind-node': [`firedrill/kind-node:${kube}`],
  };
  return {
    node: byKey['kind-node'][0]!,
    probe: byKey.probe[0]!,
    etcdTag,
    corednsTag,
    imported: NODE_IMPORTED.flatMap((k) => byKey[k]),
    all: [byKey['kind-node'][0]!, ...NODE_IMPORTED.flatMap((k) => byKey[k])],
    byKey,
  };
}

/** Labels on every image firedrill builds: which image it is and the hash of what went into it. */
export const LABEL_IMAGE = 'firedrill.image';
export const LABEL_INPUTS = 'firedrill.inputs';
export const LABEL_MANIFEST = 'firedrill.manifest';
/** On every helper container of one `image build` (value: the build's id), so a failed build's leftovers are found. */
export const LABEL_BUILD = 'firedrill.image-build';
