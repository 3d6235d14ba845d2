import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunJournal } from '../../harness/report/journal.js';
import { firedrill, labUnavailable, leftovers } from '../support/lab.js';

// `firedrill run` as CI and an SRE run it: it makes its own lab, drills, prints the summary, removes the lab.
const unavailable = await labUnavailable();
let scratch: string;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'firedrill-run-'));
});
afterAll(async () => {
  await firedrill(['lab', 'down', '--name', 'fdrun']);
  await rm(scratch, { recursive: true, force: true });
});

describe('firedrill run refuses bad input with exit 2', () => {
  it.each([
    [['run', 'cni0-gone'], 'unknown scenario "cni0-gone"'],
    [['run', '--repair', 'magic'], 'unknown repairer "magic"'],
    [['run', '--repair', 'none', '--runbook', 'manual'], '--repair and --runbook choose the same thing'],
    [['run', 'cni0-deleted', '--runbook', 'naive'], 'scenario cni0-deleted has no runbook "naive"'],
    [['run', '--runbook', '/nonexistent/runbook.json'], 'cannot read runbook file /nonexistent/runbook.json'],
    [['run', '--repeat', '0'], '--repeat must be a whole number from 1 to 100'],
    [['inject', 'nope'], 'unknown scenario "nope"'],
  ])('%j', async (args, message) => {
    const r = await firedrill([...args, '--name', 'fdrun']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(message);
    expect(await leftovers('fdrun')).toEqual([]);
  });

  it.each([
    ['missing argv', JSON.stringify({ steps: [{ kind: 'exec', node: '{{target}}' }] }), /is not valid:\n.*bad\.json:1:\d+: steps\.0\.argv: /],
    ['an unknown field', JSON.stringify({ steps: [{ kind: 'exec', node: '{{target}}', argv: ['true'], shell: 'sh' }] }), /bad\.json:1:\d+: steps\.0: Unrecognized key: "shell"/],
    ['a JSON syntax error', '{"steps": [1,}', /bad\.json:1:14: .* is not valid YAML/],
  ])('names what is wrong in a runbook file: %s', async (_what, text, message) => {
    const file = join(scratch, 'bad.json');
    await writeFile(file, text);
    const r = await firedrill(['run', 'ip-forward-off', '--runbook', file, '--name', 'fdrun']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(message);
  });
});

describe.skipIf(unavailable)(`firedrill run on its own lab (${unavailable ?? 'root and components present'})`, () => {
  it('drills all six, prints the summary, exits 0, and leaves nothing behind', { timeout: 300_000 }, async () => {
    const journalFile = join(scratch, 'journal.json');
    const r = await firedrill(['run', '--name', 'fdrun', '--journal', journalFile]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^SCENARIO\s+TARGET\s+REPAIRED BY\s+SYMPTOM\s+DETECTED\s+MTTD\s+MTTR\s+RESULT$/m);
    expect(r.stdout).toContain('6/6 drills recovered');
    const journal = (JSON.parse(await readFile(journalFile, 'utf8')) as RunJournal).drills;
    expect(journal.map((j) => j.scenario)).toEqual(['cni0-deleted', 'ip-forward-off', 'wrong-vtep-mac', 'vxlan-blocked', 'forward-reject', 'dns-unreachable-node']);
    expect(journal.every((j) => j.probes.length > 0 && j.detection?.mttdMs !== undefined && j.recovery?.mttrMs !== undefined)).toBe(true);
    expect(await leftovers('fdrun')).toEqual([]);
  });

  describe('on a kept lab', () => {
    beforeAll(async () => {
      const r = await firedrill(['lab', 'up', '--name', 'fdrun']);
      expect(r.exitCode, r.stderr).toBe(0);
    }, 300_000);

    it('--repair none only watches: the fault stays, the drill fails at its timeout with the findings as evidence', { timeout: 180_000 }, async () => {
      const r = await firedrill(['run', 'ip-forward-off', '--repair', 'none', '--name', 'fdrun', '--json']);
      expect(r.exitCode).toBe(1);
      const [j] = (JSON.parse(r.stdout) as RunJournal).drills;
      expect(j!.verdict).toBe('not-recovered');
      expect(j!.findings.remaining.map((f) => f.kind)).toContain('ip-forward-off');
      expect(j!.steps.find((s) => s.name === 'restore')?.ok).toBe(true);
    });

    it("--repair exec: times a team's own remediation", { timeout: 180_000 }, async () => {
      const script = join(scratch, 'remediate.sh');
      await writeFile(script, '#!/bin/sh\nexec ip netns exec "$FIREDRILL_TARGET_NODE" sysctl -w net.ipv4.ip_forward=1\n', { mode: 0o755 });
      const r = await firedrill(['run', 'ip-forward-off', '--repair', `exec:${script}`, '--name', 'fdrun', '--json']);
      expect(r.exitCode, r.stderr).toBe(0);
      const [j] = (JSON.parse(r.stdout) as RunJournal).drills;
      expect(j!.repairer).toBe(`exec ${script}`);
      expect(j!.verdict).toBe('recovered');
    });

    it('checks --target and the nodes a runbook file names before drilling', async () => {
      const bad = await firedrill(['run', 'vxlan-blocked', '--target', 'fdrun-nope', '--name', 'fdrun']);
      expect(bad.exitCode).toBe(2);
      expect(bad.stderr).toContain('no node fdrun-nope in lab cluster fdrun');
      expect(bad.stderr).toContain('nodes: fdrun-control-plane, fdrun-worker, fdrun-worker2');
      const file = join(scratch, 'typo.json');
      await writeFile(file, JSON.stringify({ steps: [{ kind: 'exec', node: 'fdrun-wroker', argv: ['true'] }] }));
      const typo = await firedrill(['run', 'vxlan-blocked', '--runbook', file, '--name', 'fdrun']);
      expect(typo.exitCode).toBe(2);
      expect(typo.stderr).toContain('no node fdrun-wroker in lab cluster fdrun');
    });

    it('validates a runbook file against the incident', { timeout: 180_000 }, async () => {
      const file = join(scratch, 'runbook.json');
      await writeFile(file, JSON.stringify({ description: 'iptables -D', steps: [{ kind: 'exec', node: '{{target}}', argv: ['iptables', '-w', '-D', 'INPUT', '-p', 'udp', '--dport', '8472', '-j', 'DROP'] }] }));
      const r = await firedrill(['run', 'vxlan-blocked', '--runbook', file, '--name', 'fdrun']);
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stdout).toContain(`runbook ${file}`);
      expect(r.stdout).toContain('1/1 drills recovered');
    });

    it('inject and restore reproduce an incident by hand', { timeout: 120_000 }, async () => {
      const inj = await firedrill(['inject', 'forward-reject', '--name', 'fdrun']);
      expect(inj.exitCode, inj.stderr).toBe(0);
      const doctor = await firedrill(['doctor', '--name', 'fdrun', '--no-probe']);
      expect(doctor.exitCode).toBe(1);
      expect(doctor.stdout).toContain('forward-blocked [fdrun-worker]');
      const restored = await firedrill(['restore', '--name', 'fdrun']);
      expect(restored.exitCode, restored.stdout + restored.stderr).toBe(0);
      expect(restored.stdout).toContain('steady state: no findings');
    });
  });
});
