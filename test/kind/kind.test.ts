import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunJournal } from '../../harness/report/journal.js';
import { connect } from '../../src/kube/client.js';
import { run } from '../../src/exec.js';
import { waitFor } from '../../harness/wait.js';
import { containerExecutor } from '../../harness/backends/kind/docker-exec.js';
import { parseIptablesSave } from '../../src/observe/iptables.js';
import { cliPath, firedrill } from '../support/lab.js';
import { kindLeftovers, kindUnavailable } from '../support/kind.js';

// Real kind clusters with the upstream kube-flannel.yml, from images built on this machine.
const unavailable = await kindUnavailable();
const NAME = 'kt';

const drills = async (args: string[]) => {
  const r = await firedrill(['run', '--backend', 'kind', '--name', NAME, '--json', ...args]);
  return { ...r, journals: r.stdout.trim() ? (JSON.parse(r.stdout) as RunJournal).drills : [] };
};

describe.skipIf(unavailable)(`the kind backend (${unavailable ?? 'Docker, root and components present'})`, () => {
  beforeAll(async () => {
    // A run that was killed (a CI machine reused) may have left this cluster: start clean.
    await firedrill(['kind', 'down', '--name', NAME]);
    const up = await firedrill(['kind', 'up', '--name', NAME]);
    expect(up.exitCode, up.stderr).toBe(0);
  }, 1_800_000);
  afterAll(async () => {
    await firedrill(['kind', 'down', '--name', NAME]);
  }, 300_000);

  it("shares a node's exec among the calls of one group only: a call never waits for another group's slow one", async () => {
    const node = containerExecutor(`firedrill-${NAME}-control-plane`);
    const started = performance.now();
    const at = (p: Promise<unknown>) => p.then(() => performance.now() - started);
    const [slow, sameGroup, otherGroup, noGroup] = await Promise.all([
      at(node.exec(['sleep', '2'], { group: 'a' })),
      at(node.exec(['true'], { group: 'a' })),
      at(node.exec(['true'], { group: 'b' })),
      at(node.exec(['true'])),
    ]);
    expect(slow).toBeGreaterThanOrEqual(2000);
    expect(sameGroup, 'one exec for the group: it ends with its slowest call').toBeGreaterThanOrEqual(2000);
    expect(otherGroup).toBeLessThan(1500);
    expect(noGroup).toBeLessThan(1500);
  });

  it("passes a command's input to its stdin, and its exit status and both outputs back", async () => {
    const node = containerExecutor(`firedrill-${NAME}-control-plane`);
    const r = await node.exec(['sh', '-c', 'wc -c; cat >&2; exit 3'], { input: 'x'.repeat(70_000), check: false });
    expect([r.exitCode, r.stdout.trim(), r.stderr.length]).toEqual([3, '70000', 0]);
    expect((await node.exec(['cat'], { input: 'one\ntwo\n' })).stdout).toBe('one\ntwo\n');
  });

  it('runs the six drills with the library: symptom seen, detected, recovered', { timeout: 900_000 }, async () => {
    const r = await drills([]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.journals.map((j) => [j.scenario, j.backend, j.verdict])).toEqual(
      ['cni0-deleted', 'ip-forward-off', 'wrong-vtep-mac', 'vxlan-blocked', 'forward-reject', 'dns-unreachable-node'].map((s) => [s, 'kind', 'recovered']),
    );
    for (const j of r.journals) {
      expect(j.symptom?.seen, j.scenario).toBe(true);
      expect(j.detection?.mttdMs, j.scenario).toBeGreaterThan(0);
      expect(j.recovery?.mttrMs, j.scenario).toBeGreaterThan(0);
    }
  });

  it("drills every scenario's manual runbook, and they recover as the incidents say", { timeout: 900_000 }, async () => {
    const r = await drills(['--runbook', 'manual']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.journals.every((j) => j.verdict === 'recovered')).toBe(true);
  });

  it('the naive runbook really restarts containerd and kubelet, and does not recover, as the incident says', { timeout: 600_000 }, async () => {
    const r = await drills(['wrong-vtep-mac', '--runbook', 'naive']);
    const [j] = r.journals;
    expect(j?.verdict, r.stderr).toBe('not-recovered');
    expect(j?.incident).toEqual({ says: 'did-not-recover', agrees: true });
    expect(j?.repair.some((s) => s.step.kind === 'restart' && s.ok)).toBe(true);
  });

  it('flannel-restart (deleting the node\'s flannel pod) recovers', { timeout: 600_000 }, async () => {
    const r = await drills(['wrong-vtep-mac', '--runbook', 'flannel-restart']);
    expect(r.journals[0]?.verdict, r.stderr).toBe('recovered');
  });

  it('doctor finds a fault injected by hand on a kind node and repairs it', { timeout: 300_000 }, async () => {
    const inj = await firedrill(['inject', 'forward-reject', '--backend', 'kind', '--name', NAME]);
    expect(inj.exitCode, inj.stderr).toBe(0);
    const doctor = await firedrill(['doctor', '--backend', 'kind', '--name', NAME, '--repair']);
    expect(doctor.exitCode, doctor.stdout + doctor.stderr).toBe(0);
    expect(doctor.stdout).toContain(`forward-blocked [firedrill-${NAME}-worker]`);
    const restored = await firedrill(['restore', '--backend', 'kind', '--name', NAME]);
    expect(restored.exitCode, restored.stdout + restored.stderr).toBe(0);
  });

  it("doctor puts flanneld's masquerade jump and chain back in flanneld's order on a kind node, in one iptables-restore", { timeout: 300_000 }, async () => {
    const node = containerExecutor(`firedrill-${NAME}-worker`);
    const nat = async () => parseIptablesSave((await node.exec(['iptables-save', '-t', 'nat'])).stdout).nat!;
    const masq = (await nat())['FLANNEL-POSTRTG']!.rules.find((r) => r.target === 'MASQUERADE' && r.args.includes('224.0.0.0/4'))!.args;
    await node.exec(['iptables', '-w', '-t', 'nat', '-I', 'POSTROUTING', '1', '-s', '10.244.0.0/16', '-j', 'ACCEPT']);
    try {
      await node.exec(['iptables', '-w', '-t', 'nat', '-D', 'FLANNEL-POSTRTG', ...masq]);
      await node.exec(['iptables', '-w', '-t', 'nat', '-I', 'FLANNEL-POSTRTG', '1', ...masq]);
      const doctor = await firedrill(['doctor', '--backend', 'kind', '--name', NAME, '--repair']);
      expect(doctor.exitCode, doctor.stdout + doctor.stderr).toBe(0);
      expect(doctor.stdout).toContain(`flannel-masq-rules [firedrill-${NAME}-worker]`);
      const after = await nat();
      expect(after.POSTROUTING!.rules[0]!.target).toBe('FLANNEL-POSTRTG');
      expect(after['FLANNEL-POSTRTG']!.rules.findIndex((r) => r.target === 'MASQUERADE')).toBe(4);
    } finally {
      await node.exec(['iptables', '-w', '-t', 'nat', '-D', 'POSTROUTING', '-s', '10.244.0.0/16', '-j', 'ACCEPT']);
    }
  });

  it('acts on a kind cluster it did not create only when --context is confirmed, and removes what it added', { timeout: 600_000 }, async () => {
    // The cluster's own kubeconfig holds its kind context; without its probe pods it looks like a user's cluster.
    const kubeconfig = `/run/firedrill/kind-clusters/${NAME}/kubeconfig`;
    const context = `kind-firedrill-${NAME}`;
    const kube = await connect(kubeconfig);
    const namespaceGone = async () => (await kube.core.readNamespace({ name: 'firedrill' }).catch(() => undefined)) === undefined;
    await kube.core.deleteNamespace({ name: 'firedrill' });
    await waitFor('namespace firedrill gone', async () => ((await namespaceGone()) ? { done: true, value: true } : { done: false, reason: 'terminating' }), { timeoutMs: 120_000, intervalMs: 500 });

    const refused = await firedrill(['doctor', '--context', context, '--kubeconfig', kubeconfig]);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain(`--confirm-context ${context}`);

    const r = await firedrill(['run', 'forward-reject', '--context', context, '--confirm-context', context, '--kubeconfig', kubeconfig, '--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    const [j] = (JSON.parse(r.stdout) as RunJournal).drills;
    expect([j?.backend, j?.cluster, j?.verdict]).toEqual(['kind', context, 'recovered']);
    expect(r.stderr).toMatch(/adding 6 probe pods/);
    expect(await namespaceGone(), 'the probe namespace firedrill added is removed').toBe(true);
    expect(await kindLeftovers(NAME), 'the cluster itself is left as it was').toEqual(expect.arrayContaining([expect.stringMatching(/^container /)]));
    expect((await run(['iptables-save'])).stdout).not.toContain(`firedrill:${context}`);
  });
});

describe.skipIf(unavailable)(`kind: Ctrl-C and cleanup (${unavailable ?? 'Docker, root and components present'})`, () => {
  it('Ctrl-C in the middle of a drill removes the cluster, its network and its host rules', { timeout: 900_000 }, async () => {
    const name = 'ki';
    const child = spawn('node', [cliPath, 'run', 'dns-unreachable-node', '--backend', 'kind', '--name', name], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    const injected = new Promise<void>((resolve) => {
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (/ok\s+inject/.test(stderr)) resolve();
      });
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await Promise.race([injected, exited]);
    expect(stderr).toMatch(/ok\s+inject/);
    child.kill('SIGINT');
    expect(await exited, stderr).toBe(130);
    expect(await kindLeftovers(name)).toEqual([]);
  });

  it('prune removes what a crashed run left, and nothing that is not firedrill\'s', { timeout: 900_000 }, async () => {
    const name = 'kc';
    const child = spawn('node', [cliPath, 'kind', 'up', '--name', name], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    await new Promise<void>((resolve) => {
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (stderr.includes('applying the upstream kube-flannel.yml')) resolve();
      });
      child.on('exit', () => resolve());
    });
    child.kill('SIGKILL');
    expect(await kindLeftovers(name)).not.toEqual([]);
    const pruned = await firedrill(['prune']);
    expect(pruned.exitCode, pruned.stderr).toBe(0);
    expect(await kindLeftovers(name)).toEqual([]);
  });
});
