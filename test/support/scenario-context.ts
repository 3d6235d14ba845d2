import { type ClusterAccess } from '../../src/access.js';
import { type ScenarioContext } from '../../scenarios/scenario.js';

/**
 * A three-node cluster `<name>-control-plane`, `<name>-worker` (the faulted node), `<name>-worker2`,
 * without an API or pods, whose nodes answer the reads in `reads` (argv joined by spaces) and throw
 * on any other command: for resolving steps and variables without a lab.
 */
export function fakeScenarioContext(name: string, reads: Record<string, string>, memo: Record<string, string> = {}): ScenarioContext {
  const access: ClusterAccess = {
    name,
    kubeconfig: '/dev/null',
    node: () => ({
      exec: async (argv) => {
        const stdout = reads[argv.join(' ')];
        if (stdout === undefined) throw new Error(`unexpected read ${argv.join(' ')}`);
        return { argv, exitCode: 0, stdout, stderr: '', durationMs: 0 };
      },
    }),
    pod: () => {
      throw new Error('no pods');
    },
    nodeFiles: () => ({ subnetEnv: '/run/flannel/subnet.env', cniConflist: '/etc/cni/net.d/10-flannel.conflist', flannelDataDir: '/var/lib/cni/flannel' }),
    restart: async () => undefined,
  };
  return {
    kube: {} as ScenarioContext['kube'],
    access,
    nodes: [
      { name: `${name}-control-plane`, role: 'control-plane', ip: '10.99.0.2' },
      { name: `${name}-worker`, role: 'worker', ip: '10.99.0.3' },
      { name: `${name}-worker2`, role: 'worker', ip: '10.99.0.4' },
    ],
    target: `${name}-worker`,
    memo,
  };
}
