import { cni0Deleted } from './cni0-deleted.js';
import { dnsUnreachableNode } from './dns-unreachable-node.js';
import { forwardReject } from './forward-reject.js';
import { ipForwardOff } from './ip-forward-off.js';
import { type Scenario } from './scenario.js';
import { vxlanBlocked } from './vxlan-blocked.js';
import { wrongVtepMac } from './wrong-vtep-mac.js';

/** The six incidents, in the order `firedrill run` drills them. */
export const scenarios: Scenario[] = [cni0Deleted, ipForwardOff, wrongVtepMac, vxlanBlocked, forwardReject, dnsUnreachableNode];

export function scenarioById(id: string): Scenario | undefined {
  return scenarios.find((s) => s.id === id);
}
