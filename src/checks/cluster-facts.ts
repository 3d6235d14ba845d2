import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { tryParseJson } from '../json.js';
import { type Link } from '../observe/ip.js';
import { type NodeObservation } from '../observe/node.js';

export const BACKEND_DATA = 'flannel.alpha.coreos.com/backend-data';
export const PUBLIC_IP = 'flannel.alpha.coreos.com/public-ip';
export const VXLAN_PORT = 8472;

/** What the cluster says a node should be, for comparing with what its kernel shows. */
export interface NodeFacts {
  name: string;
  internalIp?: string;
  podCIDR?: string;
  /** flannel's VTEP address on flannel.1: the podCIDR's network address. */
  vtepIp?: string;
  annotatedVtepMac?: string;
  /** The MAC the node's flannel.1 really has (from its kernel), if observed. */
  realVtepMac?: string;
}

export function nodeFacts(node: V1Node, obs: NodeObservation | undefined): NodeFacts {
  const name = node.metadata!.name!;
  const podCIDR = node.spec?.podCIDR;
  const backend = tryParseJson(node.metadata?.annotations?.[BACKEND_DATA] ?? '') as { VtepMAC?: string } | undefined;
  const vxlan = obs?.links.find((l) => l.ifname === 'flannel.1');
  return {
    name,
    internalIp: node.metadata?.annotations?.[PUBLIC_IP] ?? node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address,
    ...(podCIDR ? { podCIDR, vtepIp: podCIDR.split('/')[0]! } : {}),
    ...(backend?.VtepMAC ? { annotatedVtepMac: backend.VtepMAC.toLowerCase() } : {}),
    ...(vxlan?.address ? { realVtepMac: vxlan.address.toLowerCase() } : {}),
  };
}

/** Veths whose peers are pods: every veth except the node's uplink (the one carrying an IPv4 address). */
export function podVeths(obs: NodeObservation): Link[] {
  const withIpv4 = new Set(obs.addresses.filter((a) => a.addr_info.some((i) => i.family === 'inet')).map((a) => a.ifname));
  const vxlanLower = obs.links.find((l) => l.ifname === 'flannel.1')?.linkinfo?.info_data?.link;
  return obs.links.filter((l) => l.linkinfo?.info_kind === 'veth' && !withIpv4.has(l.ifname) && l.ifname !== vxlanLower);
}

export const podsOn = (pods: V1Pod[], node: string) => pods.filter((p) => p.spec?.nodeName === node && !p.metadata?.deletionTimestamp);
