import { type DrillJournal, type JournalFinding, type RunJournal } from '../../harness/report/journal.js';
import { runJournal } from '../../harness/report/run-journal.js';

const at = (base: number, ms: number) => new Date(base + ms).toISOString();

/**
 * A drill as runDrill records it: inject ends at t0 = start + 1 s; symptom, detection, repair and
 * recovery follow at the given ms after t0. A verdict other than recovered leaves a finding behind.
 */
export function drill(over: Partial<DrillJournal> & { mttdMs?: number; mttrMs?: number; startMs?: number } = {}): DrillJournal {
  const { mttdMs = 300, mttrMs = 1200, startMs = Date.parse('2026-11-28T07:00:00Z'), ...rest } = over;
  const verdict = rest.verdict ?? 'recovered';
  const t0 = startMs + 1000;
  const recovered = verdict === 'recovered';
  const leftover: JournalFinding = {
    kind: 'vxlan-blocked',
    severity: 'critical',
    node: 'rep-worker',
    summary: 'UDP 8472 is dropped on rep-worker',
    evidence: [{ source: 'rep-worker: iptables-save', observed: '-A INPUT -p udp --dport 8472 -j DROP', expected: 'no DROP of UDP 8472' }],
    repair: 'delete-iptables-rule',
  };
  const step = (name: DrillJournal['steps'][number]['name'], from: number, to: number, ok = true, detail?: string) => ({
    name, startedAt: at(t0, from), endedAt: at(t0, to), durationMs: to - from, ok, ...(detail ? { detail } : {}),
  });
  return {
    scenario: 'vxlan-blocked',
    title: 'UDP 8472 dropped on a node',
    target: 'rep-worker',
    backend: 'lab',
    cluster: 'rep',
    repairer: 'the library',
    repeat: 1,
    startedAt: at(startMs, 0),
    endedAt: at(t0, mttrMs + 800),
    steps: [
      step('steady-state', -1000, -200),
      step('inject', -200, 0),
      step('symptom', 0, 150),
      step('detect', 0, mttdMs, true, `vxlan-blocked on rep-worker: MTTD ${mttdMs} ms`),
      step('repair', mttdMs, mttdMs + 100),
      step('verify', mttdMs + 100, mttrMs, recovered, recovered ? `connectivity back: MTTR ${mttrMs} ms` : 'not recovered within 30000 ms; still found: vxlan-blocked@rep-worker'),
      step('restore', mttrMs, mttrMs + 800, true, 'back at steady state'),
    ],
    injected: [{ step: { kind: 'exec', node: 'rep-worker', argv: ['iptables', '-I', 'INPUT', '-p', 'udp', '--dport', '8472', '-j', 'DROP'], why: 'inject' }, ok: true, durationMs: 20 }],
    symptom: { seen: true, atMs: 150, description: 'pods on rep-worker unreachable' },
    detection: { finding: leftover, mttdMs },
    repair: [{ step: { kind: 'exec', node: 'rep-worker', argv: ['iptables', '-D', 'INPUT', '1'], why: 'delete the DROP' }, ok: recovered, durationMs: 15, ...(recovered ? {} : { error: 'exit 1: Bad rule' }) }],
    ...(recovered ? { recovery: { mttrMs } } : {}),
    restore: [],
    findings: { detected: [leftover], remaining: recovered ? [] : [leftover] },
    probes: [{ at: at(t0, 100), durationMs: 40, ping: [{ kind: 'ping', source: 'probe-a', sourceNode: 'rep-control-plane', target: 'probe-b', targetNode: 'rep-worker', targetIp: '10.244.1.2', targetKind: 'pod', ok: false }], dns: [] }],
    verdict,
    ...rest,
  };
}

export function run(drills: DrillJournal[], repeat = Math.max(...drills.map((d) => d.repeat))): RunJournal {
  return runJournal({
    argv: ['run', '--name', 'rep', '--repeat', String(repeat)],
    repeat,
    clusters: [{ backend: 'lab', name: 'rep', nodes: [{ name: 'rep-control-plane', role: 'control-plane', ip: '10.0.0.1' }, { name: 'rep-worker', role: 'worker', ip: '10.0.0.2' }] }],
    startedAt: new Date('2026-11-28T07:00:00Z'),
    endedAt: new Date('2026-11-28T07:01:00Z'),
    drills,
  });
}

/** Three repeats of two scenarios; vxlan-blocked fails in its second repeat. */
export function flakyRun(): RunJournal {
  const drills: DrillJournal[] = [];
  for (const repeat of [1, 2, 3]) {
    drills.push(drill({ scenario: 'cni0-deleted', repeat, mttdMs: 200 + repeat * 10, mttrMs: 900 + repeat * 100 }));
    drills.push(drill({ repeat, mttdMs: 300 * repeat, mttrMs: 1000 * repeat, ...(repeat === 2 ? { verdict: 'not-recovered' as const } : {}) }));
  }
  return run(drills);
}
