import { execStep } from '../src/repairs/plan.js';
import { firstWorker, type Scenario, targetCutOff } from './scenario.js';

export const ipForwardOff: Scenario = {
  id: 'ip-forward-off',
  title: 'net.ipv4.ip_forward reset to 0 on a node',
  incident:
    'A configuration-management run applied a hardened sysctl profile to a node, resetting net.ipv4.ip_forward to 0. The node kept running and stayed Ready, but it stopped routing: every cross-node packet to or from its pods was dropped.',
  defaultTarget: firstWorker,
  inject: async (ctx) => [execStep(ctx.target, ['sysctl', '-w', 'net.ipv4.ip_forward=0'], 'the incident: forwarding turned off')],
  restore: async (ctx) => [execStep(ctx.target, ['sysctl', '-w', 'net.ipv4.ip_forward=1'], 'forwarding back on')],
  symptom: { description: "cross-node pings to and from the target's pods fail", seen: targetCutOff },
  detects: ['ip-forward-off'],
  runbooks: {
    manual: {
      description: 'set net.ipv4.ip_forward back to 1 (and persist it where the node keeps sysctls: a lab node has no sysctl.d of its own, so nothing is persisted there)',
      steps: async (ctx) => [execStep(ctx.target, ['sysctl', '-w', 'net.ipv4.ip_forward=1'], 'the runbook: forwarding on')],
    },
  },
};
