import { formatArgv } from '../exec.js';
import { type FindingKind, type RepairKind } from '../findings.js';
import { type Expectation, type Unmet } from './postcondition.js';

/** One action of a repair or a runbook, as plain data: shown before it runs, recorded after. */
export type Step =
  /** `input` is written to the command's stdin (an iptables-restore transaction). */
  | { kind: 'exec'; node: string; argv: string[]; input?: string; why: string; allowFailure?: boolean }
  | { kind: 'network-exec'; argv: string[]; why: string }
  | { kind: 'patch'; resource: 'Node' | 'Deployment'; namespace?: string; name: string; patchType: 'merge' | 'strategic'; body: unknown; why: string }
  | { kind: 'restart'; node: string; component: 'flanneld' | 'kubelet'; why: string }
  | { kind: 'wait-rollout'; namespace: string; name: string; timeoutMs: number; why: string }
  /** Deletes the pod only while it is this uid (a delete precondition): never its replacement. */
  | { kind: 'delete-pod'; namespace: string; name: string; uid: string; why: string };

export interface RepairPlan {
  repair: RepairKind;
  node?: string;
  summary: string;
  /** The findings this plan answers. */
  fixes: FindingKind[];
  steps: Step[];
  /** What must be observed once the steps ran; the repair succeeded only if all of it holds. */
  postcondition: Expectation[];
  /** How long the post-condition may take to hold when another component acts on the steps (flanneld, a rollout); 0 for the kernel's own state. */
  settleMs?: number;
}

export interface StepResult {
  step: Step;
  ok: boolean;
  durationMs: number;
  output?: string;
  error?: string;
}

/**
 * A plan after it ran, judged by state: `repaired` when its post-condition holds; otherwise
 * `no-effect` (every step succeeded, the state did not change) or `failed` (a step failed).
 */
export interface PlanResult {
  plan: RepairPlan;
  steps: StepResult[];
  outcome: 'repaired' | 'no-effect' | 'failed';
  /** The post-condition's parts that do not hold, each with what was observed instead. */
  unmet: Unmet[];
}

/** An argv to run on a node. */
export function execStep(node: string, argv: string[], why: string, allowFailure = false): Extract<Step, { kind: 'exec' }> {
  return { kind: 'exec', node, argv, why, ...(allowFailure ? { allowFailure } : {}) };
}

/** A step as a person would read it in a plan or a runbook. */
export function describeStep(step: Step): string {
  switch (step.kind) {
    case 'exec':
      return `${step.node}: ${formatArgv(step.argv)}${step.input === undefined ? '' : ` <<'EOF'\n${step.input}EOF`}`;
    case 'network-exec':
      return `network: ${formatArgv(step.argv)}`;
    case 'patch':
      return `kubectl patch ${step.resource.toLowerCase()} ${step.namespace ? `-n ${step.namespace} ` : ''}${step.name} --type ${step.patchType} -p '${JSON.stringify(step.body)}'`;
    case 'restart':
      return `${step.node}: restart ${step.component}`;
    case 'wait-rollout':
      return `kubectl -n ${step.namespace} rollout status deployment/${step.name} --timeout ${Math.round(step.timeoutMs / 1000)}s`;
    case 'delete-pod':
      return `kubectl -n ${step.namespace} delete pod ${step.name} (uid ${step.uid})`;
  }
}
