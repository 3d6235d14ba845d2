import { type Diagnosis, diagnose, repairCluster, triage } from '../../src/doctor.js';
import { type Kube } from '../../src/kube/client.js';
import { probeCluster, type ProbeMode } from '../../src/probes/probe.js';
import { isGreen, type ProbeReport } from '../../src/probes/types.js';
import { applySteps } from '../../src/repairs/apply.js';
import { type Step, type StepResult } from '../../src/repairs/plan.js';
import { run as runArgv } from '../../src/exec.js';
import { type Runbook, type Scenario, type ScenarioContext } from '../../scenarios/scenario.js';
import { type Cluster } from '../backends/backend.js';
import { usageError } from '../errors.js';
import { type DrillJournal, type JournalStep } from '../report/journal.js';

/** Who repairs during a drill. */
export type Repairer = { kind: 'library' } | { kind: 'runbook'; name: string; runbook?: Runbook } | { kind: 'none' } | { kind: 'exec'; argv: string[] };

export interface DrillTimeouts {
  steadyMs: number;
  symptomMs: number;
  detectMs: number;
  recoverMs: number;
}

export const defaultTimeouts: DrillTimeouts = { steadyMs: 60_000, symptomMs: 15_000, detectMs: 15_000, recoverMs: 30_000 };

/** What runDrill returns: the drill as the journal records it. */
export type { DrillJournal } from '../report/journal.js';

export interface DrillOptions {
  scenario: Scenario;
  cluster: Cluster;
  kube: Kube;
  repairer: Repairer;
  target?: string;
  /** Which pass of --repeat this is, from 1 (recorded in the journal). */
  repeat?: number;
  timeouts?: Partial<DrillTimeouts>;
  say: (line: string) => void;
  /** Ctrl-C: no fault is injected after it fires, and one already injected is restored at once. */
  signal?: AbortSignal;
}

/**
 * steady state → inject (t0) → confirm the symptom → detect (MTTD) → repair → verify
 * (MTTR = recovery − t0) → restore → steady state again. Every step is timed and journaled.
 */
export async function runDrill(options: DrillOptions): Promise<DrillJournal> {
  const { scenario, cluster, kube, repairer, say } = options;
  const timeouts = { ...defaultTimeouts, ...options.timeouts };
  const nodes = cluster.nodes.map((n) => ({ name: n.name, role: n.role, ip: n.ip }));
  const target = options.target ?? scenario.defaultTarget(nodes);
  if (!nodes.some((n) => n.name === target)) throw usageError(`no node ${target} in ${cluster.name}`, `nodes: ${nodes.map((n) => n.name).join(', ')}`);
  const ctx: ScenarioContext = { kube, access: cluster.access, nodes, target, memo: {} };
  const journal: DrillJournal = {
    scenario: scenario.id,
    title: scenario.title,
    target,
    backend: cluster.backend,
    cluster: cluster.name,
    repairer: describeRepairer(repairer),
    repeat: options.repeat ?? 1,
    startedAt: new Date().toISOString(),
    steps: [],
    injected: [],
    repair: [],
    restore: [],
    findings: { detected: [], remaining: [] },
    probes: [],
    verdict: 'error',
  };
  const probe = async (mode: ProbeMode = 'full') => {
    const r = await probeCluster(kube, cluster.access, { mode });
    journal.probes.push(r);
    return r;
  };
  const step = async <T>(name: JournalStep['name'], body: () => Promise<{ ok: boolean; detail?: string; value?: T }>) => {
    const startedAt = new Date();
    const r = await body();
    const endedAt = new Date();
    journal.steps.push({ name, startedAt: startedAt.toISOString(), endedAt: endedAt.toISOString(), durationMs: endedAt.getTime() - startedAt.getTime(), ok: r.ok, ...(r.detail ? { detail: r.detail } : {}) });
    say(`  ${r.ok ? 'ok  ' : 'FAIL'} ${name}${r.detail ? `: ${r.detail}` : ''} (${endedAt.getTime() - startedAt.getTime()} ms)`);
    return r;
  };

  say(`drill ${scenario.id} on ${target}, repaired by ${journal.repairer}`);
  let injected = false;
  try {
    const steady = await step('steady-state', () => waitSteady(kube, cluster, probe, timeouts.steadyMs));
    if (!steady.ok) throw new Error(`the cluster is not at steady state before the drill: ${steady.detail}`);

    options.signal?.throwIfAborted();
    const injection = await step('inject', async () => {
      const results = await applySteps(await scenario.inject(ctx), kube, cluster.access);
      journal.injected = results;
      injected = true;
      const failed = results.find((r) => !r.ok);
      return { ok: !failed, detail: failed ? `${failed.error}` : `${results.length} step(s)` };
    });
    const t0 = performance.now();
    if (!injection.ok) throw new Error(`injection failed: ${injection.detail}`);

    // From t0 on, detection first: the triage's pings and reads are not slowed by the symptom's probe
    // beside them (on a 30-node lab that doubled MTTD), and nothing waits for the symptom's DNS timeouts.
    // The symptom is confirmed next: in the triage's own pings when they show it (a sampled symptom), by
    // probing otherwise; its time is that of the probe that showed it.
    let diagnosis: Diagnosis | undefined;
    const triagePings: { report: ProbeReport; atMs: number }[] = [];
    const detected = await step('detect', async () => {
      const deadline = Date.now() + timeouts.detectMs;
      let readAll = false;
      while (Date.now() < deadline) {
        // As an SRE: the sampled ping matrix, then the nodes it points at (every node if it points nowhere,
        // or if what those nodes showed was not this fault: a latent problem there must not hide it).
        const found = await triage(kube, cluster.access, { readAll });
        readAll = !found.complete;
        triagePings.push({ report: found.observation.probe!, atMs: Math.round(performance.now() - t0) });
        journal.probes.push(found.observation.probe!);
        journal.findings.detected = found.findings;
        const match = found.findings.find((f) => scenario.detects.includes(f.kind) && (!f.node || f.node === target));
        if (match) {
          diagnosis = found;
          journal.detection = { finding: match, mttdMs: Math.round(performance.now() - t0) };
          return { ok: true, detail: `${match.kind}${match.node ? ` on ${match.node}` : ''}: MTTD ${journal.detection.mttdMs} ms${found.complete ? '' : ` (read ${found.observation.state.size} node${found.observation.state.size === 1 ? '' : 's'} the pings pointed at)`}` };
        }
      }
      journal.detection = {};
      return { ok: false, detail: `no ${scenario.detects.join('/')} finding within ${timeouts.detectMs} ms; found: ${journal.findings.detected.map((f) => f.kind).join(', ') || 'nothing'}` };
    });
    const symptom = await step('symptom', async () => {
      const seenAt = (atMs: number) => {
        journal.symptom = { seen: true, description: scenario.symptom.description, atMs };
        return { ok: true, detail: `${scenario.symptom.description}, at ${atMs} ms` };
      };
      if (!scenario.symptom.matrix || scenario.symptom.matrix === 'sampled') {
        for (const { report, atMs } of triagePings) if (await scenario.symptom.seen(report, ctx)) return seenAt(atMs);
      }
      const deadline = Date.now() + timeouts.symptomMs;
      while (Date.now() < deadline) {
        const report = await probe(scenario.symptom.matrix ?? 'sampled');
        if (await scenario.symptom.seen(report, ctx)) return seenAt(Math.round(performance.now() - t0));
      }
      journal.symptom = { seen: false, description: scenario.symptom.description };
      return { ok: false, detail: `no symptom within ${timeouts.symptomMs} ms (${scenario.symptom.description}): a drill whose fault breaks nothing proves nothing` };
    });
    if (!symptom.ok) {
      journal.verdict = 'no-symptom';
      return journal;
    }

    options.signal?.throwIfAborted();
    await step('repair', async () => {
      journal.repair = await runRepairer(repairer, scenario, ctx, kube, cluster, diagnosis);
      const failed = journal.repair.find((r) => !r.ok && !('allowFailure' in r.step && r.step.allowFailure));
      return { ok: !failed, detail: failed ? `step failed: ${failed.error?.split('\n')[0]}` : `${journal.repair.length} step(s) applied` };
    });

    const verify = await step('verify', async () => {
      const recovered = scenario.recovered ?? ((r: ProbeReport) => isGreen(r));
      const deadline = Date.now() + timeouts.recoverMs;
      while (Date.now() < deadline) {
        const r = await probe();
        if (await recovered(r, ctx)) {
          journal.recovery = { mttrMs: Math.round(performance.now() - t0) };
          return { ok: true, detail: `connectivity back: MTTR ${journal.recovery.mttrMs} ms` };
        }
      }
      journal.findings.remaining = (await diagnose(kube, cluster.access)).findings;
      return { ok: false, detail: `not recovered within ${timeouts.recoverMs} ms; still found: ${journal.findings.remaining.map((f) => `${f.kind}${f.node ? `@${f.node}` : ''}`).join(', ') || 'nothing'}` };
    });
    journal.verdict = verify.ok ? (detected.ok ? 'recovered' : 'not-detected') : 'not-recovered';
    const says = repairer.kind === 'runbook' && !repairer.runbook ? scenario.runbooks[repairer.name]?.incidentSays : undefined;
    if (says) journal.incident = { says, agrees: (says === 'recovered') === verify.ok };
    return journal;
  } catch (e) {
    journal.verdict = 'error';
    journal.error = (e as Error).message;
    say(`  error: ${journal.error}`);
    return journal;
  } finally {
    if (injected) {
      await step('restore', async () => {
        journal.restore = await applySteps(await scenario.restore(ctx), kube, cluster.access);
        let steady = await waitSteady(kube, cluster, probe, Math.min(10_000, timeouts.steadyMs / 2));
        if (!steady.ok) {
          // What the drill's repairer left broken, the library repairs, so the next drill starts clean.
          await repairCluster(kube, cluster.access);
          steady = await waitSteady(kube, cluster, probe, timeouts.steadyMs / 2);
        }
        return steady.ok ? { ok: true, detail: 'back at steady state' } : { ok: false, detail: `cluster not back at steady state: ${steady.detail}` };
      });
    }
    journal.endedAt = new Date().toISOString();
  }
}

/** Green probe matrix and DNS, and no critical finding. */
async function waitSteady(kube: Kube, cluster: Cluster, probe: () => Promise<ProbeReport>, timeoutMs: number): Promise<{ ok: boolean; detail?: string }> {
  const deadline = Date.now() + timeoutMs;
  let detail = '';
  do {
    const report = await probe();
    if (isGreen(report)) {
      const { findings, observation } = await diagnose(kube, cluster.access, { probe: false });
      const critical = findings.filter((f) => f.severity === 'critical');
      // A pod still terminating (a CoreDNS rollout's old replica) takes its veth away later, under the next drill.
      const terminating = [...observation.probePods, ...observation.dnsPods].filter((p) => p.metadata?.deletionTimestamp);
      if (!critical.length && !terminating.length) return { ok: true };
      detail = [...critical.map((f) => `${f.kind}${f.node ? `@${f.node}` : ''}`), ...terminating.map((p) => `pod ${p.metadata!.name} terminating`)].join(', ');
    } else detail = `probe matrix not green (${report.ping.filter((p) => !p.ok).length} pings, ${report.dns.filter((d) => !d.ok).length} DNS lookups failing)`;
    await new Promise((r) => setTimeout(r, 200));
  } while (Date.now() < deadline);
  return { ok: false, detail };
}

async function runRepairer(repairer: Repairer, scenario: Scenario, ctx: ScenarioContext, kube: Kube, cluster: Cluster, diagnosis?: Diagnosis): Promise<StepResult[]> {
  switch (repairer.kind) {
    case 'none':
      return [];
    case 'library': {
      // The probes of the verify step judge the result; the repair rounds re-read state only.
      const outcome = await repairCluster(kube, cluster.access, { maxRounds: 3, probe: false, ...(diagnosis ? { from: diagnosis } : {}) });
      return outcome.rounds.flatMap((r) => r.results.flatMap((x) => x.steps));
    }
    case 'runbook': {
      const runbook = repairer.runbook ?? scenario.runbooks[repairer.name];
      if (!runbook) throw new Error(`${scenario.id} has no runbook "${repairer.name}" (it has: ${Object.keys(scenario.runbooks).join(', ')})`);
      return applySteps(await runbook.steps(ctx), kube, cluster.access);
    }
    case 'exec': {
      const started = performance.now();
      const r = await runArgv(repairer.argv, {
        check: false,
        timeoutMs: 300_000,
        env: { FIREDRILL_KUBECONFIG: cluster.kubeconfig, KUBECONFIG: cluster.kubeconfig, FIREDRILL_TARGET_NODE: ctx.target, FIREDRILL_CLUSTER: cluster.name },
      });
      const step: Step = { kind: 'exec', node: 'host', argv: repairer.argv, why: 'external repairer' };
      return [{ step, ok: r.exitCode === 0, durationMs: Math.round(performance.now() - started), output: (r.stdout + r.stderr).trim().slice(-2000), ...(r.exitCode ? { error: `exit ${r.exitCode}` } : {}) }];
    }
  }
}

export function describeRepairer(r: Repairer): string {
  switch (r.kind) {
    case 'library':
      return 'the library';
    case 'runbook':
      return `runbook ${r.name}`;
    case 'none':
      return 'nobody (watching only)';
    case 'exec':
      return `exec ${r.argv.join(' ')}`;
  }
}
