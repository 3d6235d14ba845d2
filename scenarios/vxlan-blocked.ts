import { execStep } from '../src/repairs/plan.js';
import { firstWorker, type Scenario, targetCutOff } from './scenario.js';

const RULE = ['INPUT', '-p', 'udp', '--dport', '8472', '-j', 'DROP'];

export const vxlanBlocked: Scenario = {
  id: 'vxlan-blocked',
  title: 'UDP 8472 (vxlan) blocked on a node',
  incident:
    "A security-group change (NSX distributed firewall in the original report) stopped accepting UDP 8472 on one node. flannel's vxlan packets to that node were dropped on arrival: its pods were unreachable from every other node while the node itself looked healthy.",
  defaultTarget: firstWorker,
  inject: async (ctx) => [execStep(ctx.target, ['iptables', '-w', '-I', ...RULE], 'the incident: vxlan dropped on arrival')],
  restore: async (ctx) => [execStep(ctx.target, ['iptables', '-w', '-D', ...RULE], 'remove the drop')],
  symptom: { description: "pings between the target's pods and other nodes fail", seen: targetCutOff },
  detects: ['vxlan-blocked'],
  runbooks: {
    manual: {
      description: 'remove the rule that drops UDP 8472',
      steps: async (ctx) => [execStep(ctx.target, ['iptables', '-w', '-D', ...RULE], 'the runbook: remove the drop')],
    },
  },
};
