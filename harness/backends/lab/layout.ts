import { join } from 'node:path';
import { usageError } from '../../errors.js';

/**
 * Names and addresses of a lab, as kind lays out a cluster: nodes `<lab>-control-plane`,
 * `<lab>-worker`, `<lab>-worker2`…, underlay 172.18.0.0/16 (kind's docker network) with
 * the control plane at 172.18.0.2. Every namespace of a lab starts with `<lab>-`, and a
 * lab name has no dash, so one lab's prefix never matches another's.
 */
export const LAB_NAME = /^[a-z][a-z0-9]{0,11}$/;
export const MAX_NODES = 50;
export const MAX_PODS_PER_NODE = 20;

export const CLUSTER_CIDR = '10.244.0.0/16';
export const SERVICE_CIDR = '10.96.0.0/16';
export const KUBERNETES_SERVICE_IP = '10.96.0.1';
export const DNS_SERVICE_IP = '10.96.0.10';
export const UNDERLAY_PREFIX = 16;
export const API_PORT = 6443;

export const stateRoot = () => process.env.FIREDRILL_STATE ?? '/run/firedrill';

export function validateLabName(name: string): string {
  if (!LAB_NAME.test(name)) {
    throw usageError(
      `invalid cluster name "${name}"`,
      'a cluster name is 1-12 lower-case letters and digits, starting with a letter (a lab prefixes its namespaces with it; a kind cluster is firedrill-<name>), e.g. --name fd',
    );
  }
  return name;
}

export function validateCount(flag: string, raw: string, min: number, max: number): number {
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isInteger(n) || n < min || n > max) {
    throw usageError(`${flag} must be a whole number from ${min} to ${max} (got "${raw}")`);
  }
  return n;
}

export interface NodeLayout {
  name: string;
  role: 'control-plane' | 'worker';
  /** The node's network namespace: same as its name. */
  netns: string;
  ip: string;
  mac: string;
  /** Name of the underlay-side veth (in the underlay namespace). */
  uplink: string;
}

export function nodeLayout(lab: string, count: number): NodeLayout[] {
  return Array.from({ length: count }, (_, i) => {
    const name = i === 0 ? `${lab}-control-plane` : i === 1 ? `${lab}-worker` : `${lab}-worker${i}`;
    const host = i + 2;
    return {
      name,
      role: i === 0 ? 'control-plane' : 'worker',
      netns: name,
      ip: `172.18.${host >> 8}.${host & 255}`,
      // Docker derives a container's MAC from its IP the same way.
      mac: `02:42:ac:12:${hex(host >> 8)}:${hex(host & 255)}`,
      uplink: `veth${i}`,
    };
  });
}

export const underlayNetns = (lab: string) => `${lab}-underlay`;
export const podNetnsPrefix = (lab: string) => `${lab}-pod-`;
export const podNetns = (lab: string, uid: string) => `${podNetnsPrefix(lab)}${uid.replaceAll('-', '').slice(0, 12)}`;

export const labDir = (lab: string) => join(stateRoot(), lab);

/** Where each part of a lab lives under its state dir. */
export function labPaths(lab: string) {
  const dir = labDir(lab);
  return {
    dir,
    state: join(dir, 'lab.json'),
    pki: join(dir, 'pki'),
    kubeconfigs: join(dir, 'kubeconfig'),
    /** The kubeconfig a person (and the library) uses from the host. */
    adminKubeconfig: join(dir, 'kubeconfig', 'admin.json'),
    logs: join(dir, 'logs'),
    etcd: join(dir, 'etcd'),
    apiSocket: join(dir, 'apiserver.sock'),
    netConf: join(dir, 'kube-flannel', 'net-conf.json'),
    node: (node: string) => nodePaths(join(dir, 'nodes', node)),
  };
}

/** A node's own filesystem paths (on kind, the node container's /run/flannel, /var/lib/cni…). */
export function nodePaths(root: string) {
  return {
    root,
    subnetEnv: join(root, 'run', 'flannel', 'subnet.env'),
    cniConfDir: join(root, 'etc', 'cni', 'net.d'),
    cniConflist: join(root, 'etc', 'cni', 'net.d', '10-flannel.conflist'),
    flannelDataDir: join(root, 'var', 'lib', 'cni', 'flannel'),
    ipamDataDir: join(root, 'var', 'lib', 'cni', 'networks'),
    cniResults: join(root, 'var', 'lib', 'cni', 'results'),
    pods: join(root, 'var', 'lib', 'kubelet', 'pods'),
    kubeProxyConfig: join(root, 'var', 'lib', 'kube-proxy', 'config.json'),
  };
}

function hex(n: number): string {
  return n.toString(16).padStart(2, '0');
}
