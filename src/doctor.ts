import { type ClusterAccess } from './access.js';
import { runChecks } from './checks/index.js';
import { type Finding, type FindingKind } from './findings.js';
import { type Kube } from './kube/client.js';
import { type ClusterObservation, NODE_CONCURRENCY, observeCluster } from './observe/cluster.js';
import { probeCluster, type ProbeMode } from './probes/probe.js';
import { involvement, type ProbeReport } from './probes/types.js';
import { applyPlans } from './repairs/apply.js';
import { describeStep, type PlanResult, type RepairPlan } from './repairs/plan.js';
import { planRepairs } from './repairs/planner.js';

export interface Diagnosis {
  observation: ClusterObservation;
  findings: Finding[];
}

export interface DiagnoseOptions {
  /** Run the probe matrix alongside the state read (default true). */
  probe?: boolean;
  /** Which matrix (default full): `sampled` pings every node pair, not every pod pair (see ProbeOptions). */
  probeMode?: ProbeMode;
}

/** Observe everything once, the probe matrix (unless asked not to) alongside the state read, and run every check. */
export async function diagnose(kube: Kube, access: ClusterAccess, options: DiagnoseOptions = {}): Promise<Diagnosis> {
  const [observation, probe] = await Promise.all([
    observeCluster(kube, access),
    options.probe === false ? undefined : probeCluster(kube, access, { mode: options.probeMode ?? 'full' }),
  ]);
  if (probe) observation.probe = probe;
  return { observation, findings: runChecks(observation) };
}

/** A triage's result: `complete` is false when only the suspect nodes were read, their state having explained the failures. */
export interface Triage extends Diagnosis {
  complete: boolean;
}

/** What explains no failing ping: the symptoms themselves, and a node that could not be read. A triage ends early only on another finding. */
const EXPLAINS_NOTHING: readonly FindingKind[] = ['pod-unreachable', 'node-pod-network-unreachable', 'dns-failing', 'node-unread'];
/** At most this many suspects are read first: a fault on many nodes is read as a whole anyway. */
const MAX_SUSPECTS = 5;
/**
 * A healthy underlay answers in well under a millisecond. A ping that fails only for being slow (a
 * busy machine) costs a needless read of its nodes, never a wrong finding: the state decides.
 */
const TRIAGE_PING_TIMEOUT_MS = 100;

export interface TriageOptions {
  pingTimeoutMs?: number;
  /** Read every node whatever the pings show (the suspects' state explained something else last time). */
  readAll?: boolean;
}

/**
 * What an SRE does first: the sampled ping matrix (every node pair, short timeouts, no DNS, which
 * takes longer to fail), then the state of the nodes the failing pings point at. Returns as soon as
 * those nodes' state explains the failures; reads every node when nothing fails or the suspects
 * explain nothing. On a large cluster the first answer costs a ping round and a node or two, not a
 * read of every node; a cluster read in one parallel wave is read whole, alongside the pings (that
 * costs no more than waiting for them). `diagnose` is the complete look.
 */
export async function triage(kube: Kube, access: ClusterAccess, options: TriageOptions = {}): Promise<Triage> {
  const pinging = () => probeCluster(kube, access, { mode: 'sampled', dns: false, pingTimeoutMs: options.pingTimeoutMs ?? TRIAGE_PING_TIMEOUT_MS });
  if ((await kube.core.listNode()).items.length <= NODE_CONCURRENCY) {
    const [state, probe] = await Promise.all([observeCluster(kube, access), pinging()]);
    const observation = { ...state, probe };
    return { observation, findings: runChecks(observation), complete: true };
  }
  const probe = await pinging();
  const suspects = options.readAll ? [] : suspectNodes(probe);
  if (suspects.length) {
    const observation = { ...(await observeCluster(kube, access, { only: suspects })), probe };
    const findings = runChecks(observation);
    if (findings.some((f) => !EXPLAINS_NOTHING.includes(f.kind))) return { observation, findings, complete: false };
  }
  const observation = { ...(await observeCluster(kube, access)), probe };
  return { observation, findings: runChecks(observation), complete: true };
}

/** The nodes most involved in failed pings (as source or target), those at least half as involved as the most. */
export function suspectNodes(probe: ProbeReport): string[] {
  const ranked = involvement(probe);
  const most = ranked[0]?.[1] ?? 0;
  return ranked
    .filter(([, count]) => count * 2 >= most)
    .slice(0, MAX_SUSPECTS)
    .map(([node]) => node);
}

export interface RepairRound {
  findings: Finding[];
  /** The plans applied this round. */
  plans: RepairPlan[];
  /** Plans made again this round but not applied: the same plan had already failed. */
  skipped: RepairPlan[];
  results: PlanResult[];
}

export interface RepairOutcome {
  rounds: RepairRound[];
  /** What the last diagnosis still found. */
  remaining: Finding[];
  /** For each repair (kind and node) the last diagnosis still calls for: its last result, when that failed or had no effect. */
  unrepaired: PlanResult[];
}

export interface RepairOptions {
  maxRounds?: number;
  /** Called with each plan before it is applied. */
  onPlan?: (plan: RepairPlan) => void;
  /** Called with each plan's result once its post-condition was checked. */
  onResult?: (result: PlanResult) => void;
  /** Start from this diagnosis instead of observing again. */
  from?: Diagnosis;
  /** Probe between rounds (default true); false re-reads state only, when the caller verifies with its own probes. */
  probe?: boolean;
}

/**
 * Plan, apply, verify: repairs every finding that has a repair, each plan judged by its
 * post-condition, then diagnoses again; a repair can reveal the next fault (or need flanneld
 * to react), so up to a few rounds. A plan that failed, or had no effect, is not applied
 * again: doing the same thing twice would not make it work.
 */
export async function repairCluster(kube: Kube, access: ClusterAccess, options: RepairOptions = {}): Promise<RepairOutcome> {
  const rounds: RepairRound[] = [];
  const probe = options.probe ?? true;
  const failed = new Set<string>();
  const last = new Map<string, PlanResult>();
  let diagnosis = options.from ?? (await diagnose(kube, access, { probe }));
  for (let round = 0; round < (options.maxRounds ?? 3); round++) {
    const planned = await planRepairs(diagnosis.findings, diagnosis.observation, access);
    const skipped = planned.filter((p) => failed.has(planKey(p)));
    const plans = planned.filter((p) => !skipped.includes(p));
    if (!plans.length) {
      if (skipped.length) rounds.push({ findings: diagnosis.findings, plans, skipped, results: [] });
      break;
    }
    const { results, observation } = await applyPlans(plans, kube, access, options.onPlan);
    for (const result of results) {
      options.onResult?.(result);
      if (result.outcome !== 'repaired') failed.add(planKey(result.plan));
      last.set(repairAt(result.plan), result);
    }
    rounds.push({ findings: diagnosis.findings, plans, skipped, results });
    // The observation that judged the plans was taken after every plan of the round ran.
    diagnosis = probe ? await diagnose(kube, access, { probe }) : { observation, findings: runChecks(observation) };
  }
  const stillNeeded = new Set(diagnosis.findings.filter((f) => f.repair).map((f) => `${f.repair}|${f.node ?? ''}`));
  return { rounds, remaining: diagnosis.findings, unrepaired: [...last.values()].filter((r) => r.outcome !== 'repaired' && stillNeeded.has(repairAt(r.plan))) };
}

const repairAt = (plan: RepairPlan) => `${plan.repair}|${plan.node ?? ''}`;

/** A plan is the same plan when it would run the same steps for the same repair. */
const planKey = (plan: RepairPlan) => [plan.repair, plan.node ?? '', ...plan.steps.map(describeStep)].join('\n');
