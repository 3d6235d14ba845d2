import { execStep } from '../src/repairs/plan.js';
import { firstWorker, type Scenario, targetCutOff } from './scenario.js';

const RULE = ['FORWARD', '-j', 'REJECT', '--reject-with', 'icmp-host-prohibited'];

export const forwardReject: Scenario = {
  id: 'forward-reject',
  title: "REJECT inserted in FORWARD above flannel's accepts",
  incident:
    "firewalld was enabled on a node and inserted `-A FORWARD -j REJECT --reject-with icmp-host-prohibited` at the top of FORWARD, above flannel's FLANNEL-FWD accepts. flanneld's resync only checks that its own rules exist, so the REJECT stayed: every forwarded pod packet on that node got an ICMP host-prohibited.",
  defaultTarget: firstWorker,
  inject: async (ctx) => [execStep(ctx.target, ['iptables', '-w', '-I', RULE[0]!, '1', ...RULE.slice(1)], 'the incident: firewalld\'s REJECT on top')],
  restore: async (ctx) => [execStep(ctx.target, ['iptables', '-w', '-D', ...RULE], 'remove the REJECT')],
  symptom: { description: "pings to and from the target's pods fail", seen: targetCutOff },
  detects: ['forward-blocked'],
  runbooks: {
    manual: {
      description: 'delete the REJECT rule from FORWARD',
      steps: async (ctx) => [execStep(ctx.target, ['iptables', '-w', '-D', ...RULE], 'the runbook: remove the REJECT')],
    },
  },
};
