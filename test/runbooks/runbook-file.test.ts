import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeScenarioContext } from '../support/scenario-context.js';
import { scenarios } from '../../scenarios/index.js';
import { runbookJsonSchema } from '../../harness/runbooks/format.js';
import { formatProblem, lintRunbook } from '../../harness/runbooks/lint.js';
import { networkOf, resolveRunbook, Variables } from '../../harness/runbooks/resolve.js';
import { describeAction } from '../../harness/runbooks/execute.js';
import { runbookAsFile } from '../../harness/runbooks/show.js';
import { loadRunbookFile, readRunbookFile, toLibraryStep } from '../../harness/runner/runbook-file.js';

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'firedrill-runbooks-'));
});
afterAll(() => rm(scratch, { recursive: true, force: true }));

async function file(text: string, name = 'runbook.yaml') {
  const path = join(scratch, name);
  await writeFile(path, text);
  return path;
}
const errorOf = (p: Promise<unknown>) => p.then(() => { throw new Error('expected an error'); }, (e: Error) => e.message);

/** A three-node cluster whose faulted node answers what the variables and the built-in runbooks read. */
const READS: Record<string, string> = {
  'cat /sys/class/net/flannel.1/address': '0a:58:0a:f4:01:00\n',
  'cat /run/flannel/subnet.env': 'FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/24\nFLANNEL_MTU=1450\n',
  'ip -j link show type veth': '[{"ifname":"veth1"},{"ifname":"veth2"},{"ifname":"eth0"}]',
  'ip -j -4 addr show': '[{"ifname":"eth0"}]',
};
const context = () => fakeScenarioContext('rb', READS, { wrongMac: '02:de:ad:be:ef:01' });
async function resolved(text: string) {
  const { file: parsed } = await readRunbookFile(await file(text));
  return (await resolveRunbook(parsed, new Variables(context(), 'rb'))).map((s) => describeAction(s.action));
}

describe('runbook files: one format, YAML (JSON accepted)', () => {
  it('the committed JSON Schema is the one generated from the zod definition', async () => {
    // On purpose after a format change: npm run schema
    await expect(`${JSON.stringify(runbookJsonSchema(), null, 2)}\n`).toMatchFileSnapshot('../../schema/runbook.schema.json');
  });

  it.each([
    ['a YAML syntax error', 'steps:\n  - kind: exec\n    argv: [ip, link\n', /runbook\.yaml:4:1: runbook .* is not valid YAML/],
    ['a missing field', 'steps:\n  - kind: exec\n    node: faulted\n', /runbook\.yaml:2:5: steps\.0\.argv: Invalid input: expected array/],
    ['an unknown field', 'steps:\n  - kind: exec\n    node: faulted\n    argv: ["true"]\n    shell: yes\n', /runbook\.yaml:5:12: steps\.0: Unrecognized key: "shell"/],
    ['an unknown step kind', 'description: x\nsteps:\n  - kind: reboot\n', /runbook\.yaml:3:11: steps\.0\.kind: Invalid discriminator value\. Expected 'exec' \| 'patch'/],
    ['a bad duration', 'steps:\n  - kind: pause\n    duration: soon\n', /runbook\.yaml:3:15: steps\.0\.duration: /],
    ['a duplicate key', 'steps:\n  - kind: exec\n    kind: exec\n', /runbook\.yaml:3:5: .*not valid YAML: Map keys must be unique/],
    ['JSON with a syntax error', '{"steps": [1,}', /runbook\.yaml:1:14: .*not valid YAML/],
    ['an unknown variable', 'steps:\n  - kind: exec\n    node: faulted\n    argv: [ip, addr, add, "{{gatway}}", dev, cni0]\n', /runbook\.yaml:4:27: steps\.0\.argv\.3: unknown variable \{\{gatway\}\}/],
    ['a step aimed at the host', 'steps:\n  - kind: exec\n    node: localhost\n    argv: ["true"]\n', /runbook\.yaml:3:11: steps\.0\.node: "localhost" is the machine firedrill runs on/],
    ['a step leaving the node\'s namespace', 'steps:\n  - kind: exec\n    node: faulted\n    argv: [nsenter, -t, "1", -n, ip, link]\n', /runbook\.yaml:4:11: steps\.0\.argv: nsenter -t 1 leaves the node's namespace/],
    ['{{item}} without for_each', 'steps:\n  - kind: exec\n    node: faulted\n    argv: [ip, link, set, "{{item}}", up]\n', /steps\.0: \{\{item\}\} needs for_each/],
  ])('names line, column and field: %s', async (_what, text, message) => {
    expect(await errorOf(readRunbookFile(await file(text)))).toMatch(message);
  });

  it('warns about a shell string, and does not refuse it', async () => {
    const { lint } = await readRunbookFile(await file('steps:\n  - kind: exec\n    node: faulted\n    argv: [sh, -c, "ip link del cni0 && true"]\n'));
    expect(lint.warnings.map((w) => formatProblem('f.yaml', w))).toEqual([expect.stringMatching(/^f\.yaml:4:11: steps\.0\.argv: runs a shell string \(sh -c\)/)]);
    expect(lintRunbook({ description: '', steps: [{ kind: 'exec', node: 'faulted', argv: ['/bin/bash', '-c', 'x'] }] }).warnings).toHaveLength(1);
  });

  it('still loads the JSON runbooks of earlier versions ({{target}}, a node name)', async () => {
    const path = await file(JSON.stringify({ description: 'iptables -D', steps: [{ kind: 'exec', node: '{{target}}', argv: ['iptables', '-w', '-D', 'INPUT', '-p', 'udp', '--dport', '8472', '-j', 'DROP'] }, { kind: 'exec', node: 'rb-worker2', argv: ['true'] }] }), 'old.json');
    const runbook = await loadRunbookFile(path);
    expect(runbook.nodes).toEqual(['rb-worker2']);
    expect(await runbook.steps(context())).toEqual([
      { kind: 'exec', node: 'rb-worker', argv: ['iptables', '-w', '-D', 'INPUT', '-p', 'udp', '--dport', '8472', '-j', 'DROP'], why: 'runbook step 1' },
      { kind: 'exec', node: 'rb-worker2', argv: ['true'], why: 'runbook step 2' },
    ]);
  });

  it('tells `firedrill run` users which steps only `firedrill validate` runs', async () => {
    const path = await file('steps:\n  - kind: drain\n    node: faulted\n', 'drain.yaml');
    expect(await errorOf(loadRunbookFile(path))).toMatch(/uses a drain step, which `firedrill run` does not run/);
  });
});

describe('variables', () => {
  it.each([
    ['{{node}}', 'rb-worker'],
    ['{{target}}', 'rb-worker'],
    ['{{peers}}', 'rb-control-plane,rb-worker2'],
    ['{{node_ip}}', '10.99.0.3'],
    ['{{subnet}}', '10.244.1.0/24'],
    ['{{gateway}}', '10.244.1.1/24'],
    ['{{mtu}}', '1450'],
    ['{{vtep_mac}}', '0a:58:0a:f4:01:00'],
    ['{{cluster}}', 'rb'],
    ['{{flannel_data_dir}}', '/var/lib/cni/flannel'],
    ['{{subnet_env}}', '/run/flannel/subnet.env'],
    ['{{fault.wrongMac}}', '02:de:ad:be:ef:01'],
  ])('%s is %s', async (variable, value) => {
    expect(await resolved(`steps:\n  - kind: exec\n    node: faulted\n    argv: [echo, "x={{ ${variable.slice(2, -2)} }}"]\n`)).toEqual([`rb-worker: echo x=${value}`]);
  });

  it('an argv item that is exactly {{peers}} becomes one argument per peer; for_each repeats a step per pod veth', async () => {
    expect(await resolved('steps:\n  - kind: exec\n    node: faulted\n    argv: [fping, "{{peers}}"]\n  - kind: exec\n    node: faulted\n    for_each: pod_veths\n    argv: [ip, link, set, "{{item}}", master, cni0]\n')).toEqual([
      'rb-worker: fping rb-control-plane rb-worker2',
      'rb-worker: ip link set veth1 master cni0',
      'rb-worker: ip link set veth2 master cni0',
    ]);
  });

  it('a value the injection did not record is an error', async () => {
    expect(await errorOf(resolved('steps:\n  - kind: exec\n    node: faulted\n    argv: [echo, "{{fault.nope}}"]\n'))).toMatch(/recorded no "nope"/);
  });

  it('subnets of any prefix', () => {
    expect([networkOf('10.244.1.1/24'), networkOf('10.244.130.7/17'), networkOf('192.168.1.1/32')]).toEqual(['10.244.1.0/24', '10.244.128.0/17', '192.168.1.1/32']);
  });
});

describe('node selectors', () => {
  const on = (selector: string) => resolved(`steps:\n  - kind: exec\n    node: ${selector}\n    argv: ["true"]\n`);
  it.each([
    ['faulted', ['rb-worker']],
    ['all', ['rb-control-plane', 'rb-worker', 'rb-worker2']],
    ['others', ['rb-control-plane', 'rb-worker2']],
    ['rb-worker2', ['rb-worker2']],
    ['"{{node}}"', ['rb-worker']],
  ])('%s', async (selector, nodes) => {
    expect(await on(selector)).toEqual(nodes.map((n) => `${n}: true`));
  });

  it('a selector that matches no node is an error naming the nodes', async () => {
    expect(await errorOf(on('rb-wroker'))).toMatch(/steps\.0\.node: node selector "rb-wroker" matches no node of cluster rb/);
  });

  it('API steps: cordon, uncordon, drain, delete-pod, patch, rollout, pause', async () => {
    expect(
      await resolved(
        'steps:\n  - {kind: cordon, node: faulted}\n  - {kind: uncordon, node: faulted}\n  - {kind: drain, node: faulted}\n  - {kind: delete-pod, namespace: kube-system, labelSelector: k8s-app=kube-dns, node: faulted}\n  - {kind: patch, resource: Deployment, namespace: kube-system, name: coredns, patchType: strategic, body: {spec: {replicas: 2}}}\n  - {kind: wait-rollout, namespace: kube-system, name: coredns, timeout: 2m}\n  - {kind: pause, duration: 500ms}\n',
      ),
    ).toEqual([
      'PATCH nodes/rb-worker (merge) {"spec":{"unschedulable":true}}',
      'PATCH nodes/rb-worker (merge) {"spec":{"unschedulable":null}}',
      'drain rb-worker: cordon, then evict every pod on it but DaemonSet and mirror pods (kubectl drain --ignore-daemonsets)',
      'DELETE pods in kube-system matching k8s-app=kube-dns on rb-worker',
      'PATCH namespaces/kube-system/deployments/coredns (strategic) {"spec":{"replicas":2}}',
      'wait for rollout of deployments/coredns in kube-system',
      'pause 500 ms',
    ]);
  });
});

describe('built-in runbooks as files (`firedrill runbook show`)', () => {
  const variants = scenarios.flatMap((s) => Object.keys(s.runbooks).map((v) => [s.id, v, s] as const));
  it.each(variants)('%s --variant %s resolves to the same steps as the built-in one', async (_id, variant, scenario) => {
    const runbook = scenario.runbooks[variant]!;
    const printed = await runbookAsFile(runbook);
    expect(lintRunbook(printed).errors).toEqual([]);
    const fromFile = (await resolveRunbook(printed, new Variables(context(), 'rb'))).map((s) => toLibraryStep(s.action, s.why, s.timeoutMs));
    const builtIn = await runbook.steps(context());
    // A for_each runs its step for every veth before the next step: the same steps, grouped.
    const key = (s: unknown) => JSON.stringify(s);
    expect(fromFile.map(key).sort()).toEqual(builtIn.map(key).sort());
    if (!printed.steps.some((s) => 'for_each' in s && s.for_each)) expect(fromFile).toEqual(builtIn);
  });
});
