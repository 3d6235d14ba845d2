import { execStep } from '../src/repairs/plan.js';
import { firstWorker, type Scenario, targetCutOff } from './scenario.js';

export const cni0Deleted: Scenario = {
  id: 'cni0-deleted',
  title: 'cni0 deleted on a node',
  incident:
    'Someone ran `ip link del cni0` on a node while cleaning up interfaces. The pods kept their veths, but the host ends lost their bridge: the node\'s pods could no longer reach their gateway, each other or the rest of the cluster, and new pods were needed before the CNI plugin would recreate the bridge.',
  defaultTarget: firstWorker,
  inject: async (ctx) => [execStep(ctx.target, ['ip', 'link', 'del', 'cni0'], 'the incident: cni0 deleted by hand')],
  // Nothing to undo by hand: the bridge is rebuilt by the repair under test (or the library's, afterwards).
  restore: async () => [],
  symptom: { description: "pings between the target's pods and the rest of the cluster fail", seen: targetCutOff },
  detects: ['cni0-missing'],
  runbooks: {
    manual: {
      description: 'recreate cni0 with the gateway from subnet.env, set it up, enslave the node\'s pod veths (never its uplink), bring them up',
      async steps(ctx) {
        const node = ctx.access.node(ctx.target);
        const env = (await node.exec(['cat', ctx.access.nodeFiles(ctx.target).subnetEnv])).stdout;
        const gateway = /^FLANNEL_SUBNET=(\S+)$/m.exec(env)?.[1];
        const mtu = /^FLANNEL_MTU=(\S+)$/m.exec(env)?.[1] ?? '1450';
        if (!gateway) throw new Error(`${ctx.target}: no FLANNEL_SUBNET in subnet.env`);
        const links = JSON.parse((await node.exec(['ip', '-j', 'link', 'show', 'type', 'veth'])).stdout || '[]') as { ifname: string }[];
        const addresses = JSON.parse((await node.exec(['ip', '-j', '-4', 'addr', 'show'])).stdout || '[]') as { ifname: string }[];
        const uplinks = new Set(addresses.map((a) => a.ifname));
        const veths = links.map((l) => l.ifname).filter((n) => !uplinks.has(n));
        return [
          execStep(ctx.target, ['ip', 'link', 'add', 'cni0', 'type', 'bridge'], 'recreate the bridge'),
          execStep(ctx.target, ['ip', 'link', 'set', 'cni0', 'mtu', mtu], 'MTU from subnet.env'),
          execStep(ctx.target, ['ip', 'addr', 'add', gateway, 'dev', 'cni0'], 'gateway from subnet.env'),
          execStep(ctx.target, ['ip', 'link', 'set', 'cni0', 'up'], 'bring it up'),
          ...veths.flatMap((v) => [execStep(ctx.target, ['ip', 'link', 'set', v, 'master', 'cni0'], 'enslave the pod veth'), execStep(ctx.target, ['ip', 'link', 'set', v, 'up'], 'bring it up')]),
        ];
      },
    },
  },
};
