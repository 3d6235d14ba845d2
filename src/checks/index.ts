import { type Finding } from '../findings.js';
import { type ClusterObservation } from '../observe/cluster.js';
import { checkBridge } from './bridge.js';
import { checkVxlanFirewall } from './firewall.js';
import { checkFlannelRules } from './flannel-rules.js';
import { checkForwarding } from './forwarding.js';
import { checkPodTrafficDrops } from './netfilter.js';
import { checkDnsPlacement, checkReachability } from './reachability.js';
import { checkPodRoutes, checkRouting } from './routing.js';
import { checkUnread } from './unread.js';
import { checkVxlan } from './vxlan.js';

/** Every check, in the order a good SRE looks: symptoms first, then the node state that explains them, then what could not be seen. */
export const checks = [checkReachability, checkDnsPlacement, checkBridge, checkForwarding, checkFlannelRules, checkRouting, checkPodRoutes, checkVxlan, checkVxlanFirewall, checkPodTrafficDrops, checkUnread] as const;

export function runChecks(obs: ClusterObservation): Finding[] {
  return checks.flatMap((check) => check(obs));
}
