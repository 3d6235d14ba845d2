import { type Diagnosis, diagnose, repairCluster } from '../../src/doctor.js';
import { type Kube, patchAs } from '../../src/kube/client.js';
import { type ProbeReport } from '../../src/probes/types.js';
import { applySteps } from '../../src/repairs/apply.js';
import { type StepResult } from '../../src/repairs/plan.js';
import { type Scenario, type ScenarioContext } from '../../scenarios/scenario.js';
import { type Cluster } from '../backends/backend.js';
import { type RunbookFile } from '../runbooks/format.js';
import { describeAction, executeSteps, type StepRecord } from '../runbooks/execute.js';
import { resolveRunbook, Variables } from '../runbooks/resolve.js';
import { type ClusterFacts, collateral, type Damage, takeFacts, unrepaired } from './facts.js';

interface ValidateTimeouts {
  steadyMs: number;
  symptomMs: number;
  recoverMs: number;
}
const defaults: ValidateTimeouts = { steadyMs: 60_000, symptomMs: 15_000, recoverMs: 30_000 };

/** A runbook judged on a cluster: every step as it ran, recovery, and what it broke on the way. */
export interface Validation {
  scenario: string;
  runbook: string;
  target: string;
  backend: string;
  cluster: string;
  injected: StepResult[];
  symptom: { seen: boolean; atMs?: number; description: string };
  steps: StepRecord[];
  service: { recovered: boolean; afterFaultMs?: number; afterRunbookMs?: number; failing: string[] };
  /** The fault's findings still present: the node (or the cluster) is not repaired. */
  unrepaired: string[];
  collateral: Damage[];
  cleanup?: string;
  ok: boolean;
  error?: string;
}

interface ValidateOptions {
  scenario: Scenario;
  runbook: RunbookFile;
  runbookName: string;
  cluster: Cluster;
  kube: Kube;
  target?: string;
  timeouts?: Partial<ValidateTimeouts>;
  signal?: AbortSignal;
  say: (line: string) => void;
}

function scenarioContext(cluster: Cluster, kube: Kube, scenario: Scenario, target?: string, memo: Record<string, unknown> = {}): ScenarioContext {
  const nodes = cluster.nodes.map((n) => ({ name: n.name, role: n.role, ip: n.ip }));
  return { kube, access: cluster.access, nodes, target: target ?? scenario.defaultTarget(nodes), memo };
}

/** The exact calls a runbook would make on this cluster, per node, without running anything. */
export async function dryRun(cluster: Cluster, kube: Kube, scenario: Scenario, runbook: RunbookFile, target?: string): Promise<string[]> {
  const memo = new Proxy({}, { get: (_, k) => `<${String(k)}: recorded when ${scenario.id} is injected>`, has: () => true });
  const ctx = scenarioContext(cluster, kube, scenario, target, memo);
  const steps = await resolveRunbook(runbook, new Variables(ctx, cluster.name));
  return steps.map((s) => `${String(s.index + 1).padStart(2)}. ${describeAction(s.action)}    # ${s.why}; timeout ${s.timeoutMs} ms${s.retries ? `, ${s.retries} retries` : ''}`);
}

/**
 * steady state → baseline (findings and cluster facts) → inject → symptom, fault facts → the runbook,
 * step by step → recovery (service, the fault's findings) → collateral damage → restore.
 */
export async function validateRunbook(o: ValidateOptions): Promise<Validation> {
  const { scenario, cluster, kube, say } = o;
  const timeouts = { ...defaults, ...o.timeouts };
  const ctx = scenarioContext(cluster, kube, scenario, o.target);
  const access = cluster.access;
  const v: Validation = {
    scenario: scenario.id,
    runbook: o.runbookName,
    target: ctx.target,
    backend: cluster.backend,
    cluster: cluster.name,
    injected: [],
    symptom: { seen: false, description: scenario.symptom.description },
    steps: [],
    service: { recovered: false, failing: [] },
    unrepaired: [],
    collateral: [],
    ok: false,
  };
  const facts = async (d: Diagnosis) => takeFacts(kube, access, d.observation, d.findings);
  let baseline: ClusterFacts | undefined;
  let injected = false;
  try {
    say(`validate ${o.runbookName} against ${scenario.id} on ${ctx.target} (${cluster.backend} cluster ${cluster.name})`);
    const steady = await waitSteady(kube, cluster, timeouts.steadyMs);
    if (!steady.ok) throw new Error(`the cluster is not at steady state: ${steady.detail}`);
    baseline = await facts(steady.diagnosis!);
    say(`  baseline: ${Object.keys(baseline.pods).length} pods with addresses, ${baseline.dnsReady} DNS replicas, ${Object.keys(baseline.findings).length} findings`);
    o.signal?.throwIfAborted();

    v.injected = await applySteps(await scenario.inject(ctx), kube, access);
    injected = true;
    const t0 = performance.now();
    const failedInjection = v.injected.find((r) => !r.ok);
    if (failedInjection) throw new Error(`injection failed: ${failedInjection.error}`);
    const symptomDeadline = Date.now() + timeouts.symptomMs;
    let faulted: Diagnosis;
    do {
      faulted = await diagnose(kube, access);
      if ((await scenario.symptom.seen(faulted.observation.probe!, ctx)) && faulted.findings.some((f) => scenario.detects.includes(f.kind))) {
        v.symptom = { seen: true, atMs: Math.round(performance.now() - t0), description: scenario.symptom.description };
        break;
      }
    } while (Date.now() < symptomDeadline);
    if (!v.symptom.seen) throw new Error(`the fault did not show within ${timeouts.symptomMs} ms (${scenario.symptom.description}): nothing to validate the runbook against`);
    const fault = await facts(faulted);
    say(`  fault injected, symptom at ${v.symptom.atMs} ms: ${scenario.symptom.description}`);
    o.signal?.throwIfAborted();

    say('  runbook:');
    const started = performance.now();
    v.steps = await executeSteps(await resolveRunbook(o.runbook, new Variables(ctx, cluster.name)), kube, access, say);

    // Poll until the service is back and the fault's findings are gone, or the time is up.
    // A probe that fails once among passing ones (a DNS reply late on a loaded machine) is not a
    // lost service: only what fails in two observations in a row counts.
    const deadline = Date.now() + timeouts.recoverMs;
    let last: Diagnosis;
    let failing: string[] = [];
    let persistent: string[] = [];
    for (;;) {
      last = await diagnose(kube, access);
      const cordoned = last.observation.nodes.filter((n) => n.spec?.unschedulable).map((n) => n.metadata!.name!);
      const previous = failing;
      failing = await serviceFailures(scenario, ctx, last.observation.probe!, cordoned);
      persistent = failing.filter((f) => previous.includes(f) || v.service.afterFaultMs === undefined);
      if (!failing.length && v.service.afterFaultMs === undefined) {
        v.service = { recovered: true, afterFaultMs: Math.round(performance.now() - t0), afterRunbookMs: Math.round(performance.now() - started), failing: [] };
      }
      const faultLeft = last.findings.some((f) => scenario.detects.includes(f.kind));
      if ((v.service.afterFaultMs !== undefined && !failing.length && !faultLeft) || Date.now() >= deadline) break;
    }
    v.service = { ...v.service, recovered: v.service.afterFaultMs !== undefined && !persistent.length, failing: persistent };
    const after = await facts(last);
    v.unrepaired = unrepaired(baseline, fault, after);
    v.collateral = collateral(baseline, fault, after);
    v.ok = v.service.recovered && !v.unrepaired.length && !v.collateral.length && v.steps.every((s) => s.ok);
    return v;
  } catch (e) {
    v.error = (e as Error).message;
    return v;
  } finally {
    if (injected) v.cleanup = await cleanUp(o, ctx, baseline, timeouts.steadyMs);
  }
}

/** What is still failing, as pings and lookups; a gateway of a node taken out of service (cordoned) is not the service. */
async function serviceFailures(scenario: Scenario, ctx: ScenarioContext, report: ProbeReport, cordoned: string[]): Promise<string[]> {
  if (scenario.recovered) return (await scenario.recovered(report, ctx)) ? [] : failuresOf(report);
  const pings = report.ping.filter((p) => !p.ok && !(p.targetKind === 'gateway' && cordoned.includes(p.targetNode)));
  return [...pings.map((p) => `ping ${p.source}@${p.sourceNode} -> ${p.target}@${p.targetNode} (${p.targetIp})`), ...report.dns.filter((d) => !d.ok).map((d) => `DNS from ${d.source}@${d.sourceNode}: ${d.error ?? 'failed'}`)];
}
const failuresOf = (r: ProbeReport) => [...r.ping.filter((p) => !p.ok).map((p) => `ping ${p.source} -> ${p.target}`), ...r.dns.filter((d) => !d.ok).map((d) => `DNS from ${d.source}`)];

async function waitSteady(kube: Kube, cluster: Cluster, timeoutMs: number): Promise<{ ok: boolean; detail?: string; diagnosis?: Diagnosis }> {
  const deadline = Date.now() + timeoutMs;
  let detail = '';
  do {
    const d = await diagnose(kube, cluster.access);
    const critical = d.findings.filter((f) => f.severity === 'critical');
    const p = d.observation.probe!;
    const green = p.ping.length > 0 && p.dns.length > 0 && p.ping.every((x) => x.ok) && p.dns.every((x) => x.ok);
    if (green && !critical.length) return { ok: true, diagnosis: d };
    detail = green ? critical.map((f) => `${f.kind}@${f.node ?? 'cluster'}`).join(', ') : `${failuresOf(p).length} probes failing`;
    await new Promise((r) => setTimeout(r, 300));
  } while (Date.now() < deadline);
  return { ok: false, detail };
}

/** Undo the fault and what the runbook left: restore, uncordon what it cordoned, the library's repairs, steady state. */
async function cleanUp(o: ValidateOptions, ctx: ScenarioContext, baseline: ClusterFacts | undefined, steadyMs: number): Promise<string> {
  const { kube, cluster } = o;
  await applySteps(await o.scenario.restore(ctx), kube, cluster.access);
  const nodes = (await kube.core.listNode()).items.filter((n) => n.spec?.unschedulable && !baseline?.cordoned.includes(n.metadata!.name!));
  for (const n of nodes) await kube.core.patchNode({ name: n.metadata!.name!, body: { spec: { unschedulable: null } } }, patchAs(kube, 'merge'));
  let steady = await waitSteady(kube, cluster, 10_000);
  if (!steady.ok) {
    await repairCluster(kube, cluster.access);
    steady = await waitSteady(kube, cluster, steadyMs);
  }
  const result = steady.ok ? 'back at steady state' : `NOT back at steady state: ${steady.detail} (firedrill doctor --repair --backend ${cluster.backend} --name ${cluster.name})`;
  o.say(`  cleanup: ${result}`);
  return result;
}
