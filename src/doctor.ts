import { type ClusterAccess } from './access.js';
import { runChecks } from './checks/index.js';
import { type Finding } from './findings.js';
import { type Kube } from './kube/client.js';
import { type ClusterObservation, observeCluster } from './observe/cluster.js';
import { applyPlan } from './repairs/apply.js';
import { type RepairPlan, type StepResult } from './repairs/plan.js';
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
  plans: RepairPlan[];
  results: { plan: RepairPlan; steps: StepResult[] }[];
}

export interface RepairOutcome {
  rounds: RepairRound[];
  /** What the last diagnosis still found. */
  remaining: Finding[];
}

export interface RepairOptions {
  maxRounds?: number;
  /** Called with each plan before it is applied. */
  onPlan?: (plan: RepairPlan) => void;
  onResult?: (plan: RepairPlan, steps: StepResult[]) => void;
  /** Start from this diagnosis instead of observing again. */
  from?: Diagnosis;
  /** Probe between rounds (default true); false re-reads state only, when the caller verifies with its own probes. */
  probe?: boolean;
}

/**
 * Plan, apply, verify: repairs every finding that has a repair, then diagnoses again; a
 * repair can reveal the next fault (or need flanneld to react), so up to a few rounds.
 */
export async function repairCluster(kube: Kube, access: ClusterAccess, options: RepairOptions = {}): Promise<RepairOutcome> {
  const rounds: RepairRound[] = [];
  const probe = options.probe ?? true;
  let diagnosis = options.from ?? (await diagnose(kube, access, { probe }));
  for (let round = 0; round < (options.maxRounds ?? 3); round++) {
    const plans = await planRepairs(diagnosis.findings, diagnosis.observation, access);
    if (!plans.length) break;
    const results: RepairRound['results'] = [];
    for (const plan of plans) {
      options.onPlan?.(plan);
      const steps = await applyPlan(plan, kube, access);
      options.onResult?.(plan, steps);
      results.push({ plan, steps });
    }
    rounds.push({ findings: diagnosis.findings, plans, results });
    diagnosis = await diagnose(kube, access, { probe });
  }
  return { rounds, remaining: diagnosis.findings };
}
