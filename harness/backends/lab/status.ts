import { connect, isReady } from '../../../src/kube/client.js';
import { isRunning } from './processes.js';
import { type LabState } from './state.js';

/** `lab status --json`: a documented, stable shape (see README). */
export interface LabStatus {
  name: string;
  status: LabState['status'];
  createdAt: string;
  kubeconfig: string;
  apiserver: { url: string; hostUrl?: string };
  underlay: LabState['underlay'];
  nodes: { name: string; role: string; netns: string; ip: string; mac: string; podCIDR?: string; vtepMAC?: string; ready: boolean }[];
  pods: { namespace: string; name: string; node?: string; ip?: string; phase?: string; ready: boolean }[];
  dns: { serviceIP: string; endpoints: string[] };
  components: { name: string; node?: string; pid: number; running: boolean; log: string }[];
  versions: Record<string, string>;
}

export async function labStatus(state: LabState): Promise<LabStatus> {
  const components = await Promise.all(
    state.processes.map(async (p) => ({ name: p.name, ...(p.node ? { node: p.node } : {}), pid: p.pid, running: await isRunning(p.pid, p.startTicks), log: p.log })),
  );
  const base = {
    name: state.name,
    status: state.status,
    createdAt: state.createdAt,
    kubeconfig: state.kubeconfig,
    apiserver: { url: state.apiserver.url, ...(state.apiserver.hostUrl ? { hostUrl: state.apiserver.hostUrl } : {}) },
    underlay: state.underlay,
    components,
    versions: state.versions,
  };
  const apiUp = components.some((c) => c.name === 'kube-apiserver' && c.running);
  if (!apiUp) {
    return { ...base, nodes: state.nodes.map((n) => ({ name: n.name, role: n.role, netns: n.netns, ip: n.ip, mac: n.mac, ready: false })), pods: [], dns: { serviceIP: '10.96.0.10', endpoints: [] } };
  }
  const kube = await connect(state.kubeconfig);
  const [nodes, pods, slices] = await Promise.all([
    kube.core.listNode(),
    kube.core.listPodForAllNamespaces(),
    kube.discovery.listNamespacedEndpointSlice({ namespace: 'kube-system', labelSelector: 'kubernetes.io/service-name=kube-dns' }),
  ]);
  const byName = new Map(nodes.items.map((n) => [n.metadata!.name!, n]));
  return {
    ...base,
    nodes: state.nodes.map((n) => {
      const node = byName.get(n.name);
      const backend = node?.metadata?.annotations?.['flannel.alpha.coreos.com/backend-data'];
      const vtepMAC = backend ? (JSON.parse(backend) as { VtepMAC?: string }).VtepMAC : undefined;
      return {
        name: n.name,
        role: n.role,
        netns: n.netns,
        ip: n.ip,
        mac: n.mac,
        ...(node?.spec?.podCIDR ? { podCIDR: node.spec.podCIDR } : {}),
        ...(vtepMAC ? { vtepMAC } : {}),
        ready: node ? isReady(node) : false,
      };
    }),
    pods: pods.items.map((p) => ({
      namespace: p.metadata!.namespace!,
      name: p.metadata!.name!,
      ...(p.spec?.nodeName ? { node: p.spec.nodeName } : {}),
      ...(p.status?.podIP ? { ip: p.status.podIP } : {}),
      ...(p.status?.phase ? { phase: p.status.phase } : {}),
      ready: isReady(p),
    })),
    dns: {
      serviceIP: '10.96.0.10',
      endpoints: slices.items.flatMap((s) => (s.endpoints ?? []).filter((e) => e.conditions?.ready).flatMap((e) => e.addresses)),
    },
  };
}
