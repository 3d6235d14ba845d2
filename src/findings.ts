/** What a check concluded: one cause (or one symptom), where, and the observations that show it. */
export type FindingKind =
  // symptoms, from the probes
  | 'pod-unreachable'
  | 'dns-failing'
  // causes, from node and cluster state
  | 'cni0-missing'
  | 'cni0-misconfigured'
  | 'veth-orphaned'
  | 'veth-down'
  | 'pod-network-missing'
  | 'hairpin-off'
  | 'ip-forward-off'
  | 'interface-forwarding-off'
  | 'policy-routing-divert'
  | 'pod-route-extra'
  | 'pod-route-local-wrong'
  | 'pod-traffic-dropped'
  | 'vtep-annotation-mismatch'
  | 'vxlan-neighbour-wrong'
  | 'vxlan-fdb-missing'
  | 'vxlan-fdb-stale'
  | 'vxlan-neighbour-stray'
  | 'vxlan-route-missing'
  | 'vxlan-device-missing'
  | 'vxlan-device-down'
  | 'vxlan-device-misconfigured'
  | 'vxlan-blocked'
  | 'forward-blocked'
  | 'forward-policy-drop'
  | 'flannel-forward-rules'
  | 'flannel-masq-rules'
  | 'node-pod-network-unreachable'
  | 'dns-on-unreachable-node'
  | 'dns-no-endpoints'
  | 'dns-scaled-to-zero'
  // the observation itself
  | 'node-unread';

export interface Evidence {
  /** Where it was read: a command on a node, or an API object. */
  source: string;
  observed: unknown;
  expected?: unknown;
}

export interface Finding {
  kind: FindingKind;
  severity: 'critical' | 'warning';
  /** The node whose state is wrong (for symptoms: the node most involved). */
  node?: string;
  summary: string;
  evidence: Evidence[];
  /** The repair that fixes it, if the library has one (see src/repairs). */
  repair?: RepairKind;
  /** Structured facts the repair acts on (the exact rule, the MACs, the addresses). */
  detail?: Record<string, unknown>;
}

export type RepairKind =
  | 'recreate-cni0'
  | 'enable-ip-forward'
  | 'enable-interface-forwarding'
  | 'delete-ip-rule'
  | 'fix-pod-routes'
  | 'restore-flannel-rules'
  | 'set-vxlan-device'
  | 'restore-vtep-annotation'
  | 'fix-vxlan-peer'
  | 'restart-flanneld'
  | 'delete-iptables-rule'
  | 'delete-nft-rule'
  | 'forward-policy-accept'
  | 'move-dns'
  | 'scale-dns'
  | 'replace-pod';

