import { BACKEND_DATA } from '../src/checks/cluster-facts.js';
import { execStep, type Step } from '../src/repairs/plan.js';
import { firstWorker, type Scenario, type ScenarioContext, targetCutOff } from './scenario.js';

/** A MAC no interface has (the second one if the node's flannel.1 happens to carry the first). */
const WRONG_MACS = ['02:de:ad:be:ef:01', '02:de:ad:be:ef:02'];
const wrongMac = (ctx: ScenarioContext) => String(ctx.memo.wrongMac ?? WRONG_MACS[0]);

const annotationPatch = (node: string, value: string, why: string): Step => ({
  kind: 'patch',
  resource: 'Node',
  name: node,
  patchType: 'merge',
  body: { metadata: { annotations: { [BACKEND_DATA]: value } } },
  why,
});

async function realVtepMac(ctx: ScenarioContext): Promise<string> {
  return (await ctx.access.node(ctx.target).exec(['cat', '/sys/class/net/flannel.1/address'])).stdout.trim();
}

export const wrongVtepMac: Scenario = {
  id: 'wrong-vtep-mac',
  title: "wrong VtepMAC in a node's flannel backend-data annotation",
  incident:
    "A node's flannel.alpha.coreos.com/backend-data annotation was edited (kubectl edit node) and ended up with a VtepMAC that no interface has. Every other node's flanneld programmed a PERMANENT neighbour entry and an FDB entry for that wrong MAC, so vxlan traffic to the node went nowhere. The team's runbook (delete cni0 and flannel.1, clear /var/lib/cni/flannel, restart the runtime and kubelet) did not bring it back.",
  defaultTarget: firstWorker,
  async inject(ctx) {
    const node = await ctx.kube.core.readNode({ name: ctx.target });
    const original = node.metadata?.annotations?.[BACKEND_DATA];
    if (!original) throw new Error(`${ctx.target} has no ${BACKEND_DATA} annotation to corrupt`);
    ctx.memo.original = original;
    const real = await realVtepMac(ctx);
    ctx.memo.wrongMac = WRONG_MACS.find((m) => m !== real);
    const value = JSON.stringify({ ...(JSON.parse(original) as object), VtepMAC: ctx.memo.wrongMac });
    return [annotationPatch(ctx.target, value, 'the incident: the annotation edited through the API, as kubectl edit node would')];
  },
  async restore(ctx) {
    const mac = await realVtepMac(ctx);
    const peers = ctx.nodes.filter((n) => n.name !== ctx.target);
    const target = ctx.nodes.find((n) => n.name === ctx.target)!;
    return [
      annotationPatch(ctx.target, JSON.stringify({ VNI: 1, VtepMAC: mac }), "back to the node's real flannel.1 MAC"),
      ...peers.map((p) => execStep(p.name, ['bridge', 'fdb', 'del', wrongMac(ctx), 'dev', 'flannel.1', 'dst', target.ip, 'self'], 'the stale FDB entry flanneld leaves', true)),
    ];
  },
  symptom: { description: "pings from other nodes to the target's pods fail", seen: targetCutOff },
  detects: ['vtep-annotation-mismatch'],
  runbooks: {
    naive: {
      description: 'the incident\'s runbook, step for step: clear the flannel CNI data dir, delete cni0 and flannel.1, restart the container runtime and kubelet (on a lab: the node\'s lab kubelet)',
      incidentSays: 'did-not-recover',
      steps: async (ctx) => [
        execStep(ctx.target, ['rm', '-fr', ctx.access.nodeFiles(ctx.target).flannelDataDir], 'rm -fr /var/lib/cni/flannel'),
        execStep(ctx.target, ['ip', 'link', 'set', 'cni0', 'down'], 'ip link set cni0 down'),
        execStep(ctx.target, ['ip', 'link', 'set', 'flannel.1', 'down'], 'ip link set flannel.1 down'),
        execStep(ctx.target, ['ip', 'link', 'delete', 'cni0'], 'ip link delete cni0'),
        execStep(ctx.target, ['ip', 'link', 'delete', 'flannel.1'], 'ip link delete flannel.1'),
        { kind: 'restart', node: ctx.target, component: 'kubelet', why: 'systemctl restart containerd kubelet' },
      ],
    },
    manual: {
      description: "restore the annotation from the node's real flannel.1 MAC, then check every peer's neighbour entry follows and remove the stale FDB entry",
      async steps(ctx) {
        const mac = await realVtepMac(ctx);
        const target = ctx.nodes.find((n) => n.name === ctx.target)!;
        return [
          annotationPatch(ctx.target, JSON.stringify({ VNI: 1, VtepMAC: mac }), 'the runbook: annotation from /sys/class/net/flannel.1/address'),
          ...ctx.nodes
            .filter((n) => n.name !== ctx.target)
            .map((p) => execStep(p.name, ['bridge', 'fdb', 'del', wrongMac(ctx), 'dev', 'flannel.1', 'dst', target.ip, 'self'], 'the runbook: stale FDB entry', true)),
        ];
      },
    },
    'flannel-restart': {
      description: 'restart flanneld on the faulted node (its outcome was never measured in the incident)',
      steps: async (ctx) => [{ kind: 'restart', node: ctx.target, component: 'flanneld', why: 'restart flanneld' }],
    },
  },
};

