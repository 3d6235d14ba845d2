import { type ClusterAccess } from '../access.js';
import { CommandError } from '../exec.js';
import { type Kube, patchAs } from '../kube/client.js';
import { type ClusterObservation, observeCluster } from '../observe/cluster.js';
import { type PlanResult, type RepairPlan, type Step, type StepResult } from './plan.js';
import { unmet } from './postcondition.js';
import { mapLimit } from '../parallel.js';

/** Runs steps in order; stops at the first failing step unless it is allowed to fail. */
export async function applySteps(steps: Step[], kube: Kube, access: ClusterAccess): Promise<StepResult[]> {
  const results: StepResult[] = [];
  for (const step of steps) {
    const started = performance.now();
    try {
      const output = await applyStep(step, kube, access);
      results.push({ step, ok: true, durationMs: Math.round(performance.now() - started), ...(output ? { output } : {}) });
    } catch (e) {
      const error = e instanceof CommandError ? e.message : (e as Error).message;
      results.push({ step, ok: false, durationMs: Math.round(performance.now() - started), error });
      if (!('allowFailure' in step && step.allowFailure)) break;
    }
  }
  return results;
}

/**
 * Applies a plan, then observes the cluster again and judges the plan by its post-condition,
 * not by exit codes: re-read until it holds or the plan's settle time has passed. The last
 * observation comes back too, taken after the plan ran.
 */
export async function applyPlan(plan: RepairPlan, kube: Kube, access: ClusterAccess): Promise<{ result: PlanResult; observation: ClusterObservation }> {
  const { results, observation } = await applyPlans([plan], kube, access);
  return { result: results[0]!, observation };
}

/** Nodes repaired at once: each node's plans still run in their order. */
const NODE_CONCURRENCY = 8;

/**
 * Applies the plans of one diagnosis (none depends on another's outcome: they were all made from
 * the same observation), then judges each by its own post-condition on observations taken after all
 * of them ran, re-read while a plan whose post-condition does not hold yet is within its settle
 * time. Cluster-wide plans run first, in order; then each node's plans in order, nodes side by side:
 * a fault on all 49 peers of a 50-node cluster is repaired in the time of a few, and the cluster is
 * read once per check of the post-conditions, not once per plan.
 */
export async function applyPlans(
  plans: readonly RepairPlan[],
  kube: Kube,
  access: ClusterAccess,
  onPlan: (plan: RepairPlan) => void = () => undefined,
): Promise<{ results: PlanResult[]; observation: ClusterObservation }> {
  const steps = new Map<RepairPlan, StepResult[]>();
  const apply = async (plan: RepairPlan) => {
    onPlan(plan);
    steps.set(plan, await applySteps(plan.steps, kube, access));
  };
  for (const plan of plans.filter((p) => !p.node)) await apply(plan);
  const byNode = Map.groupBy(plans.filter((p) => p.node), (p) => p.node!);
  await mapLimit([...byNode.values()], NODE_CONCURRENCY, async (nodePlans) => {
    for (const plan of nodePlans) await apply(plan);
  });
  const applied = Date.now();
  for (;;) {
    const observation = await observeCluster(kube, access);
    const results = plans.map((plan) => judge(plan, steps.get(plan)!, unmet(plan.postcondition, observation)));
    // Each plan waits for its own post-condition only as long as its own settle time.
    const waiting = results.some((r) => r.outcome !== 'repaired' && Date.now() < applied + (r.plan.settleMs ?? 0));
    if (!waiting) return { results, observation };
    await new Promise((r) => setTimeout(r, 200));
  }
}

function judge(plan: RepairPlan, steps: StepResult[], missing: PlanResult['unmet']): PlanResult {
  const stepFailed = steps.some((r) => !r.ok && !('allowFailure' in r.step && r.step.allowFailure));
  const outcome = !missing.length ? 'repaired' : stepFailed ? 'failed' : 'no-effect';
  return { plan, steps, outcome, unmet: missing };
}

async function applyStep(step: Step, kube: Kube, access: ClusterAccess): Promise<string | undefined> {
  switch (step.kind) {
    case 'exec': {
      const r = await access.node(step.node).exec(step.argv, { timeoutMs: 30_000, ...(step.input === undefined ? {} : { input: step.input }) });
      return (r.stdout + r.stderr).trim() || undefined;
    }
    case 'network-exec': {
      if (!access.network) throw new Error('this backend has no network between nodes to act on');
      const r = await access.network.exec(step.argv, { timeoutMs: 30_000 });
      return (r.stdout + r.stderr).trim() || undefined;
    }
    case 'patch': {
      const options = patchAs(kube, step.patchType);
      if (step.resource === 'Node') await kube.core.patchNode({ name: step.name, body: step.body }, options);
      else await kube.apps.patchNamespacedDeployment({ name: step.name, namespace: step.namespace!, body: step.body }, options);
      return undefined;
    }
    case 'restart':
      await access.restart(step.node, step.component);
      return undefined;
    case 'wait-rollout':
      await waitRollout(kube, step.namespace, step.name, step.timeoutMs);
      return undefined;
    case 'delete-pod':
      await kube.core.deleteNamespacedPod({ namespace: step.namespace, name: step.name, body: { preconditions: { uid: step.uid } } });
      return undefined;
  }
}

/** Until every replica is updated and available (what `kubectl rollout status` waits for). */
export async function waitRollout(kube: Kube, namespace: string, name: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const d = await kube.apps.readNamespacedDeployment({ namespace, name });
    const want = d.spec?.replicas ?? 1;
    const s = d.status;
    if ((s?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0) && s?.updatedReplicas === want && s?.availableReplicas === want && (s?.replicas ?? 0) === want) return;
    if (Date.now() > deadline) throw new Error(`deployment ${namespace}/${name} not rolled out after ${timeoutMs} ms: ${JSON.stringify({ want, updated: s?.updatedReplicas, available: s?.availableReplicas, total: s?.replicas })}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
