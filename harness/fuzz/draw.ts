import { type Cluster } from '../backends/backend.js';
import { type Diagnosis, diagnose, repairCluster } from '../../src/doctor.js';
import { runChecks } from '../../src/checks/index.js';
import { type FindingKind } from '../../src/findings.js';
import { type Kube } from '../../src/kube/client.js';
import { observeCluster } from '../../src/observe/cluster.js';
import { type ClusterAccess } from '../../src/access.js';
import { probeLargePackets } from '../../src/probes/large-packet.js';
import { probeCluster, type ProbeOptions } from '../../src/probes/probe.js';
import { failedDns, failedPings, isGreen, type ProbeReport } from '../../src/probes/types.js';
import { applySteps } from '../../src/repairs/apply.js';
import { type Injection, labFacts, type Mutation, operatorById } from './operators.js';

/**
 * What became of one draw. A draw without a symptom proves nothing and is counted apart, as is a
 * transient one: red once, then green again without the library applying anything.
 */
export type DrawVerdict = 'repaired' | 'not-repaired' | 'no-symptom' | 'transient' | 'not-applicable' | 'inject-failed' | 'error';

export interface DrawResult {
  draw: Mutation[];
  descriptions: string[];
  verdict: DrawVerdict;
  /** The library found a cause (a finding beyond the probe's symptoms). */
  detected: boolean;
  /** The library said it was done: no plan left unrepaired and no critical finding remaining (doctor --repair would exit 0). */
  claimedRepaired: boolean;
  /** It said so while the probe matrix or DNS was not green: a soundness failure, whatever else happened. */
  falseClaim: boolean;
  /** What failed in the first probe after a claim, when it was red. */
  redAfterClaim?: string;
  findings: string[];
  remaining: string[];
  durationMs: number;
  /** Time from the end of the injection to a green matrix after the repair. */
  repairMs?: number;
  /** How long each phase took (symptom, detect, repair, verify), in ms. */
  phases: Record<string, number>;
  error?: string;
}

/** How long a symptom may take to show after the injection, and connectivity to come back after the repair. */
const TIMEOUTS = { symptomMs: 6_000, verifyMs: 10_000 };

const SYMPTOMS: FindingKind[] = ['pod-unreachable', 'dns-failing', 'node-pod-network-unreachable'];
const label = (f: { kind: string; node?: string }) => `${f.kind}${f.node ? `@${f.node}` : ''}`;

/**
 * The outside-in probes a draw is judged by: the matrix and DNS, then large packets between pods
 * on different nodes (an MTU fault lets every small ping through). What failed, empty when green.
 */
export async function outsideIn(kube: Kube, access: ClusterAccess, options: ProbeOptions = {}): Promise<{ report: ProbeReport; failing: string[] }> {
  const report = await probeCluster(kube, access, options);
  const failing = [...failedPings(report).map((p) => `${p.source}->${p.target}`), ...failedDns(report).map((d) => `dns from ${d.source}`)];
  if (!isGreen(report)) return { report, failing: failing.length ? failing : ['no probe result'] };
  const large = await probeLargePackets(kube, access, options.pingTimeoutMs ? { timeoutMs: options.pingTimeoutMs } : {});
  return { report, failing: large.filter((r) => !r.ok).map((r) => `${r.bytes}-byte ${r.source}->${r.target}`) };
}

/**
 * One draw on a lab at steady state: inject every mutation, confirm a symptom with the probe
 * matrix and DNS, let the library diagnose and repair, verify with the full matrix and DNS.
 * Undoing what is left is the caller's (it also checks the lab is back at steady state).
 */
export async function runDraw(cluster: Cluster, kube: Kube, draw: Mutation[]): Promise<{ result: DrawResult; injections: Injection[] }> {
  const started = performance.now();
  const facts = labFacts(await observeCluster(kube, cluster.access));
  const injections = draw.map((m) => operatorById(m.op)!.resolve(m, facts)).filter((i): i is Injection => !!i);
  const result: DrawResult = { draw, descriptions: injections.map((i) => i.description), verdict: 'not-applicable', detected: false, claimedRepaired: false, falseClaim: false, findings: [], remaining: [], durationMs: 0, phases: {} };
  let mark = performance.now();
  const phase = (name: string) => {
    const now = performance.now();
    result.phases[name] = Math.round(now - mark);
    mark = now;
  };
  const done = () => ({ result: { ...result, durationMs: Math.round(performance.now() - started) }, injections });
  if (injections.length < draw.length) return done();

  try {
    await afterInjection(cluster, kube, injections, result, phase);
  } catch (e) {
    // A command that timed out on an overloaded machine, an API error: the draw says so, the run goes on.
    result.verdict = 'error';
    result.error = (e as Error).message.split('\n')[0];
  }
  return done();
}

async function afterInjection(cluster: Cluster, kube: Kube, injections: Injection[], result: DrawResult, phase: (name: string) => void): Promise<void> {
  const injected = await applySteps(injections.flatMap((i) => i.inject), kube, cluster.access);
  const failed = injected.find((r) => !r.ok);
  if (failed) {
    result.verdict = 'inject-failed';
    result.error = `${failed.error}`;
    return;
  }
  const t0 = performance.now();
  phase('inject');

  let symptom: ProbeReport | undefined;
  const deadline = Date.now() + TIMEOUTS.symptomMs;
  do {
    const probed = await outsideIn(kube, cluster.access);
    if (probed.failing.length) symptom = probed.report;
  } while (!symptom && Date.now() < deadline);
  phase('symptom');
  if (!symptom) {
    result.verdict = 'no-symptom';
    return;
  }

  const observation = await observeCluster(kube, cluster.access);
  observation.probe = symptom;
  const diagnosis: Diagnosis = { observation, findings: runChecks(observation) };
  result.findings = diagnosis.findings.map(label);
  result.detected = diagnosis.findings.some((f) => !SYMPTOMS.includes(f.kind));
  phase('detect');

  const outcome = await repairCluster(kube, cluster.access, { from: diagnosis });
  result.remaining = outcome.remaining.map(label);
  result.claimedRepaired = !outcome.unrepaired.length && !outcome.remaining.some((f) => f.severity === 'critical');
  phase('repair');

  // The claim is judged on the probes right after it: red twice in a row is a false claim, the
  // second time with pings given a second to answer (a loaded 2-core machine delays replies past
  // the usual 300 ms); red once is kept as evidence. The repair: green within verifyMs.
  const verifyUntil = Date.now() + TIMEOUTS.verifyMs;
  let probes = 0;
  for (;;) {
    const confirming = result.claimedRepaired && probes === 1;
    const { failing: red } = await outsideIn(kube, cluster.access, confirming ? { pingTimeoutMs: 1_000 } : {});
    probes++;
    if (result.claimedRepaired && probes <= 2 && red.length) {
      result.redAfterClaim ??= `${red.length} failing: ${red.slice(0, 4).join(', ')}${red.length > 4 ? ', …' : ''}`;
      if (probes === 2) result.falseClaim = true;
    }
    if (!red.length) {
      result.verdict = outcome.rounds.some((r) => r.plans.length) ? 'repaired' : 'transient';
      result.repairMs = Math.round(performance.now() - t0);
      break;
    }
    if (Date.now() >= verifyUntil) {
      result.verdict = 'not-repaired';
      result.remaining = (await diagnose(kube, cluster.access)).findings.map(label);
      break;
    }
  }
  phase('verify');
}
