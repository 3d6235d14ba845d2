import { type ClusterAccess } from './access.js';
import { runChecks } from './checks/index.js';
import { type Finding } from './findings.js';
import { type Kube } from './kube/client.js';
import { type ClusterObservation, observeCluster } from './observe/cluster.js';
import { applyPlan } from './repairs/apply.js';
import { describeStep, type PlanResult, type RepairPlan } from './repairs/plan.js';
import { planRepairs } from './repairs/planner.js';

export interface Diagnosis {
  observation: ClusterObservation;
  findings: Finding[];
}

/** Observe everything once (probes included unless asked not to) and run every check. */
export async function diagnose(kube: Kube, access: ClusterAccess, options: { probe?: boolean } = {}): Promise<Diagnosis> {
  const observation = await observeCluster(kube, access, { probe: options.probe ?? true });
  return { observation, findings: runChecks(observation) };
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
    const results: PlanResult[] = [];
    let observation = diagnosis.observation;
    for (const plan of plans) {
      options.onPlan?.(plan);
      const applied = await applyPlan(plan, kube, access);
      options.onResult?.(applied.result);
      results.push(applied.result);
      observation = applied.observation;
      if (applied.result.outcome !== 'repaired') failed.add(planKey(plan));
      last.set(repairAt(plan), applied.result);
    }
    rounds.push({ findings: diagnosis.findings, plans, skipped, results });
    // The last plan's observation was taken after every plan of the round ran.
    diagnosis = probe ? await diagnose(kube, access, { probe }) : { observation, findings: runChecks(observation) };
  }
  const stillNeeded = new Set(diagnosis.findings.filter((f) => f.repair).map((f) => `${f.repair}|${f.node ?? ''}`));
  return { rounds, remaining: diagnosis.findings, unrepaired: [...last.values()].filter((r) => r.outcome !== 'repaired' && stillNeeded.has(repairAt(r.plan))) };
}

const repairAt = (plan: RepairPlan) => `${plan.repair}|${plan.node ?? ''}`;

/** A plan is the same plan when it would run the same steps for the same repair. */
const planKey = (plan: RepairPlan) => [plan.repair, plan.node ?? '', ...plan.steps.map(describeStep)].join('\n');
