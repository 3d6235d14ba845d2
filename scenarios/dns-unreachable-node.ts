import { networkRuleLabel } from '../src/access.js';
import { type Step } from '../src/repairs/plan.js';
import { failedDns, failedPings } from '../src/probes/types.js';
import { type Scenario, type ScenarioContext } from './scenario.js';

const PIN = 'kubernetes.io/hostname';

/**
 * The network cutover: vxlan to and from the node dropped in the network between the nodes (outside
 * every node). The comment labels the rule as this cluster's: on kind that network is the host's.
 */
const cutover = (ctx: ScenarioContext, action: '-I' | '-D'): Step[] => {
  const ip = ctx.nodes.find((n) => n.name === ctx.target)!.ip;
  return (['-s', '-d'] as const).map((dir): Step => ({
    kind: 'network-exec',
    argv: ['iptables', '-w', action, 'FORWARD', '-p', 'udp', '--dport', '8472', dir, ip, '-m', 'comment', '--comment', networkRuleLabel(ctx.access.name), '-j', 'DROP'],
    why: action === '-I' ? `the incident: after the cutover the network drops vxlan ${dir === '-s' ? 'from' : 'to'} ${ctx.target}` : 'undo the cutover fault',
  }));
};

const dnsPatch = (body: unknown, why: string): Step => ({ kind: 'patch', resource: 'Deployment', namespace: 'kube-system', name: 'coredns', patchType: 'strategic', body, why });
const rollout = (why: string): Step => ({ kind: 'wait-rollout', namespace: 'kube-system', name: 'coredns', timeoutMs: 60_000, why });

export const dnsUnreachableNode: Scenario = {
  id: 'dns-unreachable-node',
  title: 'cluster DNS scheduled on a node whose pod network the others cannot reach',
  incident:
    "After a network cutover, vxlan traffic to and from the control-plane node no longer crossed the new network, while the API kept working. kube-dns ended up on the control-plane node: every DNS lookup from every other node timed out, and the cluster looked like a DNS outage rather than a network one.",
  defaultTarget: (nodes) => (nodes.find((n) => n.role === 'control-plane') ?? nodes[0]!).name,
  inject: async (ctx) => [
    ...cutover(ctx, '-I'),
    dnsPatch({ spec: { template: { spec: { nodeSelector: { [PIN]: ctx.target } } } } }, 'every DNS replica placed on that node, as the Deployment allows'),
    rollout('the DNS pods have moved'),
  ],
  restore: async (ctx) => [
    ...cutover(ctx, '-D'),
    { kind: 'patch', resource: 'Node', name: ctx.target, patchType: 'merge', body: { spec: { unschedulable: null } }, why: 'uncordon (a runbook may have cordoned it)' },
    dnsPatch({ spec: { template: { spec: { nodeSelector: { [PIN]: null }, affinity: { nodeAffinity: null } } } } }, "back to kubeadm's placement rules"),
    rollout('DNS settled'),
  ],
  symptom: {
    description: 'DNS lookups from pods on the other nodes time out',
    seen: (report, ctx) => failedDns(report).some((d) => d.sourceNode !== ctx.target),
  },
  // The node stays cut off (a separate finding): recovery is DNS answering every pod elsewhere.
  recovered: (report, ctx) =>
    report.dns.filter((d) => d.sourceNode !== ctx.target).every((d) => d.ok) &&
    failedPings(report).every((p) => p.sourceNode === ctx.target || p.targetNode === ctx.target),
  detects: ['dns-on-unreachable-node'],
  runbooks: {
    manual: {
      description: 'move DNS to a reachable node and keep it off the bad node: cordon it, drop the pin, let the Deployment reschedule',
      steps: async (ctx) => [
        { kind: 'patch', resource: 'Node', name: ctx.target, patchType: 'merge', body: { spec: { unschedulable: true } }, why: 'kubectl cordon' },
        dnsPatch({ spec: { template: { spec: { nodeSelector: { [PIN]: null } } } } }, 'remove the pin'),
        rollout('kubectl rollout status'),
      ],
    },
  },
};
