import { type ImageKey, NODE_IMPORTED } from './names.js';

/** Where a binary placed into an image comes from. */
export type BinarySource =
  /** A binary `firedrill setup` built or downloaded (its cache). */
  | { from: 'setup'; component: string; binary: string }
  /** A binary of a component's Go module that setup does not build (built here, cached beside setup's). */
  | { from: 'module'; component: string; name: string; package: string }
  /** registry.k8s.io/pause's pause.c from the k8s.io/kubernetes module, compiled static. */
  | { from: 'pause' };

export type ImageSpec =
  | {
      key: ImageKey;
      how: 'debootstrap';
      /** Packages on top of debootstrap's minbase: every tool an image needs, so no image build needs the network. */
      packages: string[];
    }
  | {
      key: ImageKey;
      how: 'dockerfile';
      /** harness/images/files/<dir>: the Dockerfile and the files it copies. */
      dir: string;
      /** Build args naming other images (FROM, COPY --from). */
      args: Record<string, ImageKey>;
      /** Context path -> binary. */
      binaries: Record<string, BinarySource>;
      /** Other files from harness/images/files: context path -> path under files/. */
      shared?: Record<string, string>;
      /** Directories created in the context with a mode (COPY keeps it), e.g. a sticky /tmp. */
      dirs?: Record<string, number>;
      /** Put kind's images/base/files (from the sigs.k8s.io/kind module) into the context as kind-files/. */
      kindBaseFiles?: boolean;
    }
  | {
      key: ImageKey;
      how: 'node';
      base: ImageKey;
      imports: readonly ImageKey[];
      /** Binaries copied into /usr/bin, as `kind build node-image` does. */
      binaries: Record<string, BinarySource>;
    };

const kube = (binary: string): BinarySource => ({ from: 'setup', component: 'kubernetes', binary });
const cni = (binary: string): BinarySource => ({ from: 'setup', component: 'cni-plugins', binary });
const staticBinary = (key: ImageKey, binaries: Record<string, BinarySource>): ImageSpec => ({ key, how: 'dockerfile', dir: 'static-binary', args: { BASE: 'static-base' }, binaries });
const withIptables = { 'iptables-wrapper': 'iptables-wrapper' };

/** kind's base image packages (images/base/Dockerfile's clean-install list) plus Debian's containerd and runc. */
const NODE_PACKAGES = [
  'systemd',
  'conntrack',
  'iptables',
  'nftables',
  'iproute2',
  'ethtool',
  'util-linux',
  'mount',
  'kmod',
  'libseccomp2',
  'pigz',
  'fuse-overlayfs',
  'nfs-common',
  'open-iscsi',
  'e2fsprogs',
  'bash',
  'ca-certificates',
  'curl',
  'jq',
  'procps',
  'containerd',
  'runc',
];

/** What kube-proxy, flanneld and the probe pods run: iptables/nftables userspace, conntrack, ipset, ip, fping, busybox (nslookup), ping; dig for an SRE's own look. */
const SLIM_PACKAGES = ['iptables', 'nftables', 'conntrack', 'ipset', 'iproute2', 'ca-certificates', 'fping', 'bind9-dnsutils', 'iputils-ping', 'busybox-static'];

/** Every image in build order (parents first). */
export const IMAGE_SPECS: readonly ImageSpec[] = [
  { key: 'debian-node', how: 'debootstrap', packages: NODE_PACKAGES },
  { key: 'debian-slim', how: 'debootstrap', packages: SLIM_PACKAGES },
  { key: 'static-base', how: 'dockerfile', dir: 'static-base', args: { SLIM: 'debian-slim' }, binaries: {}, dirs: { 'rootfs/tmp': 0o1777 } },
  staticBinary('kube-apiserver', { 'bin/kube-apiserver': kube('kube-apiserver') }),
  staticBinary('kube-controller-manager', { 'bin/kube-controller-manager': kube('kube-controller-manager') }),
  staticBinary('kube-scheduler', { 'bin/kube-scheduler': kube('kube-scheduler') }),
  staticBinary('etcd', { 'bin/etcd': { from: 'setup', component: 'etcd', binary: 'etcd' } }),
  { key: 'coredns', how: 'dockerfile', dir: 'coredns', args: { BASE: 'static-base' }, binaries: { 'bin/coredns': { from: 'setup', component: 'coredns', binary: 'coredns' } } },
  { key: 'pause', how: 'dockerfile', dir: 'pause', args: {}, binaries: { 'bin/pause': { from: 'pause' } } },
  { key: 'kube-proxy', how: 'dockerfile', dir: 'kube-proxy', args: { BASE: 'debian-slim' }, binaries: { 'bin/kube-proxy': kube('kube-proxy') }, shared: withIptables },
  {
    key: 'flannel',
    how: 'dockerfile',
    dir: 'flannel',
    args: { BASE: 'debian-slim' },
    binaries: {
      'bin/flanneld': { from: 'setup', component: 'flannel', binary: 'flanneld' },
      // kube-flannel.yml's install-cni init container runs it; upstream builds it from the flannel module too.
      'bin/install-conf': { from: 'module', component: 'flannel', name: 'install-conf', package: 'github.com/flannel-io/flannel/cmd/install_conf' },
    },
    shared: withIptables,
  },
  {
    key: 'flannel-cni-plugin',
    how: 'dockerfile',
    dir: 'flannel-cni-plugin',
    args: { SLIM: 'debian-slim' },
    binaries: { 'bin/flannel': { from: 'setup', component: 'flannel-cni-plugin', binary: 'flannel' } },
  },
  { key: 'probe', how: 'dockerfile', dir: 'probe', args: { BASE: 'debian-slim' }, binaries: {} },
  {
    key: 'kind-base',
    how: 'dockerfile',
    dir: 'kind-base',
    args: { BASE: 'debian-node' },
    kindBaseFiles: true,
    binaries: {
      'bin/crictl': { from: 'setup', component: 'crictl', binary: 'crictl' },
      // kind ships host-local, loopback, ptp and portmap; flannel's CNI config delegates to bridge, which kind lacks.
      'cni/host-local': cni('host-local'),
      'cni/loopback': cni('loopback'),
      'cni/portmap': cni('portmap'),
      'cni/bridge': cni('bridge'),
      'cni/ptp': { from: 'module', component: 'cni-plugins', name: 'ptp', package: 'github.com/containernetworking/plugins/plugins/main/ptp' },
    },
  },
  {
    key: 'kind-node',
    how: 'node',
    base: 'kind-base',
    imports: NODE_IMPORTED,
    binaries: { kubeadm: kube('kubeadm'), kubelet: kube('kubelet'), kubectl: kube('kubectl') },
  },
];

export function parentsOf(spec: ImageSpec): ImageKey[] {
  if (spec.how === 'dockerfile') return [...new Set(Object.values(spec.args))];
  if (spec.how === 'node') return [spec.base, ...spec.imports];
  return [];
}

export function specOf(key: ImageKey): ImageSpec {
  const spec = IMAGE_SPECS.find((s) => s.key === key);
  if (!spec) throw new Error(`no image spec for ${key}`);
  return spec;
}
