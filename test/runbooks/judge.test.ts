import { describe, expect, it } from 'vitest';
import { type ClusterAccess } from '../../src/access.js';
import { type Kube } from '../../src/kube/client.js';
import { executeSteps } from '../../harness/runbooks/execute.js';
import { type ClusterFacts, collateral, unrepaired } from '../../harness/validate/facts.js';

const facts = (over: Partial<ClusterFacts> = {}): ClusterFacts => ({
  pods: {
    'firedrill/probe-a': { node: 'w1', ip: '10.244.1.2', controlled: true, hasAddress: true },
    'default/bare': { node: 'w2', ip: '10.244.2.9', controlled: false, hasAddress: true },
  },
  ready: { 'firedrill/probe': 6, 'kube-system/coredns': 2 },
  dnsReady: 2,
  cordoned: [],
  links: { w1: ['cni0', 'eth0', 'flannel.1', 'lo'], w2: ['cni0', 'eth0', 'flannel.1', 'lo'] },
  rules: { w1: ['iptables -A FORWARD -j FLANNEL-FWD'], w2: [] },
  findings: {},
  ...over,
});

describe('collateral damage: worse than the baseline, and not done by the fault', () => {
  it('nothing when the runbook put everything back', () => {
    expect(collateral(facts(), facts({ findings: { 'cni0-missing@w1': 'gone' }, links: { w1: ['eth0', 'flannel.1', 'lo'], w2: facts().links.w2! } }), facts())).toEqual([]);
  });

  it('what the fault did and the runbook left is "not repaired", not collateral', () => {
    const fault = facts({ findings: { 'cni0-missing@w1': 'cni0 is missing' }, links: { w1: ['eth0', 'flannel.1', 'lo'], w2: facts().links.w2! } });
    expect(collateral(facts(), fault, fault)).toEqual([]);
    expect(unrepaired(facts(), fault, fault)).toEqual(['cni0-missing@w1: cni0 is missing']);
  });

  it('a pod deleted, a pod without its address, replicas and a DNS replica lost, a node left cordoned', () => {
    const after = facts({
      pods: { 'firedrill/probe-a': { node: 'w1', ip: '10.244.1.2', controlled: true, hasAddress: false } },
      ready: { 'firedrill/probe': 4, 'kube-system/coredns': 1 },
      dnsReady: 1,
      cordoned: ['w1'],
    });
    expect(collateral(facts(), facts(), after).map((d) => d.detail)).toEqual([
      'pod firedrill/probe-a no longer has its address 10.244.1.2 on its interface',
      'pod default/bare (10.244.2.9) was deleted and nothing recreates it',
      'deployment firedrill/probe: 4 ready replica(s), 6 before the fault',
      '1 DNS replica(s) ready, 2 before the fault',
      'node w1 left cordoned (unschedulable)',
    ]);
  });

  it('another node now failing a check, a link or a rule left behind, a link deleted', () => {
    const after = facts({
      findings: { 'forward-blocked@w2': 'REJECT on top' },
      links: { w1: ['eth0', 'flannel.1', 'lo'], w2: ['cni0', 'dummy0', 'eth0', 'flannel.1', 'lo'] },
      rules: { w1: [], w2: ['iptables -A FORWARD -j REJECT'] },
    });
    expect(collateral(facts(), facts(), after).map((d) => d.detail)).toEqual([
      'now failing a check: forward-blocked@w2: REJECT on top',
      'w1: link cni0 deleted',
      'w1: iptables -A FORWARD -j FLANNEL-FWD removed',
      'w2: link dummy0 left behind',
      'w2: iptables -A FORWARD -j REJECT left behind',
    ]);
  });
});

describe('running steps', () => {
  const access = (exec: ClusterAccess['node']): ClusterAccess => ({
    name: 'rb',
    kubeconfig: '/dev/null',
    node: exec,
    pod: () => { throw new Error('no pods'); },
    nodeFiles: () => ({ subnetEnv: '', cniConflist: '', flannelDataDir: '' }),
    restart: async () => undefined,
  });
  const exec = (argv: string[], more: object = {}) => ({ index: 0, action: { kind: 'exec' as const, node: 'w1', argv, expect: { exit: 0 }, allowFailure: false, ...more }, why: 'test', timeoutMs: 200, retries: 0 });

  it('a step that hangs fails at its timeout, named, and the runbook stops there', async () => {
    const hang = access(() => ({ exec: () => new Promise(() => {}) }));
    const records = await executeSteps([exec(['sleep', 'forever']), exec(['true'])], {} as Kube, hang);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ ok: false, error: 'timed out after 200 ms: w1: sleep forever (raise the step\'s timeout if it needs longer)' });
  });

  it('checks exit code and output, and retries', async () => {
    let calls = 0;
    const flaky = access(() => ({ exec: async (argv) => ({ argv, exitCode: ++calls < 3 ? 1 : 0, stdout: `try ${calls}`, stderr: '', durationMs: 0 }) }));
    const [r] = await executeSteps([{ ...exec(['probe']), retries: 2, action: { ...exec(['probe']).action, expect: { exit: 0, output: 'try 3' } } }], {} as Kube, flaky);
    expect(r).toMatchObject({ ok: true, attempts: 3, exitCode: 0, output: 'try 3' });
    const [wrong] = await executeSteps([{ ...exec(['probe']), action: { ...exec(['probe']).action, expect: { exit: 0, output: '^nope$' } } }], {} as Kube, flaky);
    expect(wrong).toMatchObject({ ok: false, error: 'output does not match /^nope$/' });
  });
});
