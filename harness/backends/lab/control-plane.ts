import { join } from 'node:path';
import { API_PORT, CLUSTER_CIDR, type NodeLayout, SERVICE_CIDR, labPaths } from './layout.js';
import { type Identity, type Pki, identities } from './pki.js';
import { type StartSpec } from './processes.js';

/** The controllers the lab's objects, drills and runbook steps (drain's evictions honour PodDisruptionBudgets) rely on. */
const LAB_CONTROLLERS = [
  'node-ipam-controller',
  'node-lifecycle-controller',
  'taint-eviction-controller',
  'pod-garbage-collector-controller',
  'ttl-controller',
  'deployment-controller',
  'replicaset-controller',
  'disruption-controller',
  'endpoints-controller',
  'endpointslice-controller',
  'endpointslice-mirroring-controller',
  'service-cidr-controller',
  'serviceaccount-controller',
  'serviceaccount-token-controller',
  'root-ca-certificate-publisher-controller',
  'namespace-controller',
  'garbage-collector-controller',
  'clusterrole-aggregation-controller',
];

/** Paths of the pinned binaries the lab runs (from `firedrill setup`). */
export interface Binaries {
  etcd: string;
  kubeApiserver: string;
  kubeControllerManager: string;
  kubeScheduler: string;
  kubeProxy: string;
  flanneld: string;
  coredns: string;
  cniDir: string;
}

export const kubeconfigFor = (lab: string, i: Identity) => join(labPaths(lab).kubeconfigs, `${i.file}.json`);

/**
 * The control plane as kubeadm runs it on a kind control-plane node, as processes in that
 * node's namespace: etcd on the node's loopback, kube-apiserver serving on the node's
 * underlay address (so every node reaches it over the underlay), the controller manager
 * with node IPAM on (flanneld needs spec.podCIDR), and the scheduler.
 */
export function controlPlaneSpecs(lab: string, cp: NodeLayout, pki: Pki, bin: Binaries): Omit<StartSpec, 'lab'>[] {
  const paths = labPaths(lab);
  const log = (n: string) => join(paths.logs, `${n}.log`);
  const common = { node: cp.name, netns: cp.netns };
  const kcmConfig = kubeconfigFor(lab, identities.controllerManager);
  const schedulerConfig = kubeconfigFor(lab, identities.scheduler);
  return [
    {
      ...common,
      name: 'etcd',
      log: log('etcd'),
      argv: [
        bin.etcd,
        `--name=${cp.name}`,
        `--data-dir=${paths.etcd}`,
        '--listen-client-urls=http://127.0.0.1:2379',
        '--advertise-client-urls=http://127.0.0.1:2379',
        '--listen-peer-urls=http://127.0.0.1:2380',
        '--initial-advertise-peer-urls=http://127.0.0.1:2380',
        `--initial-cluster=${cp.name}=http://127.0.0.1:2380`,
        '--listen-metrics-urls=http://127.0.0.1:2381',
        // The data dir is on tmpfs and dies with the lab: durability buys nothing.
        '--unsafe-no-fsync',
        '--log-level=warn',
      ],
    },
    {
      ...common,
      name: 'kube-apiserver',
      log: log('kube-apiserver'),
      argv: [
        bin.kubeApiserver,
        `--advertise-address=${cp.ip}`,
        '--bind-address=0.0.0.0',
        `--secure-port=${API_PORT}`,
        '--etcd-servers=http://127.0.0.1:2379',
        `--tls-cert-file=${pki.apiserverCert}`,
        `--tls-private-key-file=${pki.apiserverKey}`,
        `--client-ca-file=${pki.ca}`,
        '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
        `--service-account-key-file=${pki.serviceAccountPub}`,
        `--service-account-signing-key-file=${pki.serviceAccountKey}`,
        `--service-cluster-ip-range=${SERVICE_CIDR}`,
        '--authorization-mode=Node,RBAC',
        '--enable-admission-plugins=NodeRestriction',
        '--allow-privileged=true',
        // As kind: reach kubelets by InternalIP, never by looking up a node name in DNS.
        '--kubelet-preferred-address-types=InternalIP',
        '--profiling=false',
      ],
    },
    {
      ...common,
      name: 'kube-controller-manager',
      log: log('kube-controller-manager'),
      argv: [
        bin.kubeControllerManager,
        `--kubeconfig=${kcmConfig}`,
        `--authentication-kubeconfig=${kcmConfig}`,
        `--authorization-kubeconfig=${kcmConfig}`,
        '--bind-address=127.0.0.1',
        `--tls-cert-file=${pki.controllerManagerServing.cert}`,
        `--tls-private-key-file=${pki.controllerManagerServing.key}`,
        `--root-ca-file=${pki.ca}`,
        `--service-account-private-key-file=${pki.serviceAccountKey}`,
        '--use-service-account-credentials=true',
        // kubeadm's `*,bootstrapsigner,tokencleaner` less what a lab never has (volumes, jobs, DaemonSets,
        // CSRs, quotas, autoscaling, DRA, cloud): node IPAM hands out podCIDRs only once every enabled
        // controller has started, and these cost about 0.4 s of a 3-node lab's start.
        `--controllers=${LAB_CONTROLLERS.join(',')}`,
        '--allocate-node-cidrs=true',
        `--cluster-cidr=${CLUSTER_CIDR}`,
        '--node-cidr-mask-size=24',
        `--service-cluster-ip-range=${SERVICE_CIDR}`,
        `--cluster-name=${lab}`,
        // The defaults (20 qps, burst 30) throttle its own start: controllers come up one by one,
        // node IPAM about five seconds in. A lab has one client of this kind, not thousands.
        '--kube-api-qps=200',
        '--kube-api-burst=400',
        '--leader-elect=false',
        '--profiling=false',
      ],
    },
    {
      ...common,
      name: 'kube-scheduler',
      log: log('kube-scheduler'),
      argv: [
        bin.kubeScheduler,
        `--kubeconfig=${schedulerConfig}`,
        `--authentication-kubeconfig=${schedulerConfig}`,
        `--authorization-kubeconfig=${schedulerConfig}`,
        '--bind-address=127.0.0.1',
        `--tls-cert-file=${pki.schedulerServing.cert}`,
        `--tls-private-key-file=${pki.schedulerServing.key}`,
        '--leader-elect=false',
        '--profiling=false',
      ],
    },
  ];
}
