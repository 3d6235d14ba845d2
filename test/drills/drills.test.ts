import { describe, expect, it } from 'vitest';
import { type DrillJournal, type Repairer, runDrill } from '../../harness/runner/drill.js';
import { waitFor } from '../../harness/wait.js';
import { scenarioById, scenarios } from '../../scenarios/index.js';
import { type Scenario } from '../../scenarios/scenario.js';
import { diagnose, repairCluster } from '../../src/doctor.js';
import { run } from '../../src/exec.js';
import { allureDrill } from '../support/allure-drill.js';
import { labUnavailable, libraryLab } from '../support/lab.js';

// The six drills on a real lab, repaired by the library and by the incidents' runbooks.
const LAB = 'fdd';
const unavailable = await labUnavailable();
const lab = libraryLab(LAB, unavailable);
const quiet = () => undefined;
// Each drill also goes into this test's Allure result: its phases as steps, with what they saw.
async function drill(scenario: Scenario, repairer: Repairer, timeouts = {}): Promise<DrillJournal> {
  const journal = await runDrill({ scenario, cluster: lab.cluster, kube: lab.kube, repairer, say: quiet, timeouts });
  await allureDrill(journal);
  return journal;
}
const onNode = (node: string, ...argv: string[]) => run(['ip', 'netns', 'exec', node, ...argv]);

describe.skipIf(unavailable)(`drills (${unavailable ?? 'root and components present'})`, () => {
  it('doctor finds nothing on a healthy lab', async () => {
    expect((await diagnose(lab.kube, lab.cluster.access)).findings).toEqual([]);
  });

  describe('repaired by the library', () => {
    it.each(scenarios.map((s) => [s.id, s] as const))('%s: symptom seen, right finding, recovered', { timeout: 120_000 }, async (_id, scenario) => {
      const j = await drill(scenario, { kind: 'library' });
      expect(j.symptom?.seen).toBe(true);
      expect(scenario.detects).toContain(j.detection?.finding?.kind);
      expect(j.verdict, JSON.stringify(j.steps)).toBe('recovered');
      expect(j.recovery?.mttrMs).toBeGreaterThan(0);
      expect(j.steps.find((s) => s.name === 'restore')?.ok).toBe(true);
    });
  });

  describe("repaired by the incident's manual runbook", () => {
    it.each(scenarios.map((s) => [s.id, s] as const))('%s recovers', { timeout: 120_000 }, async (_id, scenario) => {
      const j = await drill(scenario, { kind: 'runbook', name: 'manual' });
      expect(j.verdict, JSON.stringify(j.steps)).toBe('recovered');
    });
  });

  it('wrong-vtep-mac: the naive runbook does not recover, with the findings still present as evidence', { timeout: 180_000 }, async () => {
    const j = await drill(scenarioById('wrong-vtep-mac')!, { kind: 'runbook', name: 'naive' }, { recoverMs: 8_000 });
    expect(j.verdict).toBe('not-recovered');
    expect(j.incident).toEqual({ says: 'did-not-recover', agrees: true });
    expect(j.findings.remaining.map((f) => f.kind)).toEqual(expect.arrayContaining(['cni0-missing']));
    expect(j.steps.find((s) => s.name === 'restore')?.ok).toBe(true);
  });

  it("wrong-vtep-mac: restarting flanneld recovers (the real flanneld rewrites the annotation from flannel.1's MAC)", { timeout: 120_000 }, async () => {
    const j = await drill(scenarioById('wrong-vtep-mac')!, { kind: 'runbook', name: 'flannel-restart' });
    expect(j.verdict).toBe('recovered');
  });

  it('reports a drill whose injection is a no-op as failed, not passed', { timeout: 120_000 }, async () => {
    const noop: Scenario = { ...scenarioById('ip-forward-off')!, id: 'no-op', inject: async () => [] };
    const j = await drill(noop, { kind: 'library' }, { symptomMs: 3_000 });
    expect(j.verdict).toBe('no-symptom');
    expect(j.symptom?.seen).toBe(false);
  });

  describe('doctor explains faults injected by hand, and --repair restores green', () => {
    const cases: [string, () => Promise<unknown>, string[]][] = [
      ['cni0 missing on the control plane', () => onNode(`${LAB}-control-plane`, 'ip', 'link', 'del', 'cni0'), [`cni0-missing@${LAB}-control-plane`]],
      ['ip_forward off on two nodes', async () => { await onNode(`${LAB}-worker`, 'sysctl', '-w', 'net.ipv4.ip_forward=0'); await onNode(`${LAB}-worker2`, 'sysctl', '-w', 'net.ipv4.ip_forward=0'); }, [`ip-forward-off@${LAB}-worker`, `ip-forward-off@${LAB}-worker2`]],
      ['8472 dropped in OUTPUT', () => onNode(`${LAB}-worker`, 'iptables', '-w', '-A', 'OUTPUT', '-p', 'udp', '--dport', '8472', '-j', 'DROP'), [`vxlan-blocked@${LAB}-worker`]],
      ['8472 dropped by a native nft rule', () => run(['ip', 'netns', 'exec', `${LAB}-worker2`, 'nft', '-f', '-'], { input: 'table inet fw {\n chain input {\n  type filter hook input priority 0; policy accept;\n  udp dport 8472 drop\n }\n}\n' }), [`vxlan-blocked@${LAB}-worker2`]],
      ['FORWARD policy DROP', () => onNode(`${LAB}-worker`, 'iptables', '-w', '-P', 'FORWARD', 'DROP'), [`forward-policy-drop@${LAB}-worker`]],
      ['a wrong neighbour entry without an annotation change', async () => {
        const nodes = (await lab.kube.core.listNode()).items;
        const worker = nodes.find((n) => n.metadata!.name === `${LAB}-worker`)!;
        await onNode(`${LAB}-worker2`, 'ip', 'neigh', 'replace', worker.spec!.podCIDR!.split('/')[0]!, 'lladdr', '02:00:00:00:0b:ad', 'dev', 'flannel.1', 'nud', 'permanent');
      }, [`vxlan-neighbour-wrong@${LAB}-worker2`]],
      ['two faults at once', async () => { await onNode(`${LAB}-worker`, 'sysctl', '-w', 'net.ipv4.ip_forward=0'); await onNode(`${LAB}-worker2`, 'iptables', '-w', '-I', 'FORWARD', '1', '-j', 'REJECT'); }, [`forward-blocked@${LAB}-worker2`, `ip-forward-off@${LAB}-worker`]],
    ];
    it.each(cases)('%s', { timeout: 90_000 }, async (_name, inject, expected) => {
      await inject();
      const causes = await waitFor(
        'the findings',
        async () => {
          const found = (await diagnose(lab.kube, lab.cluster.access, { probe: false })).findings.map((f) => `${f.kind}@${f.node}`);
          return expected.every((e) => found.includes(e)) ? { done: true, value: found } : { done: false, reason: found.join(', ') };
        },
        { timeoutMs: 10_000 },
      );
      expect(causes).toEqual(expect.arrayContaining(expected));
      const outcome = await repairCluster(lab.kube, lab.cluster.access);
      expect(outcome.remaining).toEqual([]);
    });
  });
});
