import { type Finding } from '../findings.js';
import { type ClusterObservation } from '../observe/cluster.js';

/** A node that could not be read was judged by no check: say so, or its silence reads as health. */
export function checkUnread(obs: ClusterObservation): Finding[] {
  return Object.entries(obs.unread ?? {}).map(([node, reason]) => ({
    kind: 'node-unread',
    severity: 'warning',
    node,
    summary: `${node}: its state could not be read, so no check judged it: ${reason}`,
    evidence: [{ source: `${node}: the node's reads (ip, bridge, iptables-save, nft, /proc/sys)`, observed: reason, expected: 'every read answered' }],
  }));
}
