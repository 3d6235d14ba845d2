import { type ClusterAccess } from '../../src/access.js';
import { CommandError, formatArgv } from '../../src/exec.js';
import { apiStatus, type Kube, patchAs } from '../../src/kube/client.js';
import { waitRollout } from '../../src/repairs/apply.js';
import { type Action, type ResolvedStep } from './resolve.js';

/** What one resolved step did: recorded for the journal and the verdict. */
export interface StepRecord {
  index: number;
  call: string;
  why: string;
  ok: boolean;
  attempts: number;
  durationMs: number;
  exitCode?: number;
  output?: string;
  error?: string;
}

/** An action as the exact command or API call it is: what --dry-run prints and reports show. */
export function describeAction(a: Action): string {
  switch (a.kind) {
    case 'exec':
      return `${a.node}: ${formatArgv(a.argv)}${a.expect.exit ? ` (expect exit ${a.expect.exit})` : ''}${a.expect.output ? ` (expect output /${a.expect.output}/)` : ''}${a.allowFailure ? ' (may fail)' : ''}`;
    case 'patch':
      return `PATCH ${a.resource === 'Node' ? `nodes/${a.name}` : `namespaces/${a.namespace}/deployments/${a.name}`} (${a.patchType}) ${JSON.stringify(a.body)}`;
    case 'restart':
      return `${a.node}: restart ${a.component}`;
    case 'wait-rollout':
      return `wait for rollout of deployments/${a.name} in ${a.namespace}`;
    case 'delete-pod':
      return `DELETE pods in ${a.namespace}${a.name ? ` named ${a.name}` : ''}${a.labelSelector ? ` matching ${a.labelSelector}` : ''}${a.nodes ? ` on ${a.nodes.join(', ')}` : ''}`;
    case 'cordon':
    case 'uncordon':
      return `PATCH nodes/${a.node} (merge) {"spec":{"unschedulable":${a.kind === 'cordon' ? 'true' : 'null'}}}`;
    case 'drain':
      return `drain ${a.node}: cordon, then evict every pod on it but DaemonSet and mirror pods (kubectl drain --ignore-daemonsets)`;
    case 'pause':
      return `pause ${a.ms} ms`;
  }
}

/** Runs the steps in order, each with its timeout and retries; stops at the first failure unless the step may fail. */
export async function executeSteps(steps: ResolvedStep[], kube: Kube, access: ClusterAccess, say: (line: string) => void = () => {}): Promise<StepRecord[]> {
  const records: StepRecord[] = [];
  for (const step of steps) {
    const started = performance.now();
    let attempt = 0;
    let last: Omit<StepRecord, 'index' | 'call' | 'why' | 'attempts' | 'durationMs'>;
    do {
      attempt++;
      last = await within(step.timeoutMs, describeAction(step.action), () => perform(step.action, kube, access, step.timeoutMs));
    } while (!last.ok && attempt <= step.retries);
    const record: StepRecord = { index: step.index, call: describeAction(step.action), why: step.why, attempts: attempt, durationMs: Math.round(performance.now() - started), ...last };
    records.push(record);
    say(`    ${record.ok ? 'ok  ' : 'FAIL'} ${record.call}${record.exitCode !== undefined ? ` [exit ${record.exitCode}]` : ''} (${record.durationMs} ms${attempt > 1 ? `, ${attempt} attempts` : ''})${record.error ? `: ${record.error.split('\n')[0]}` : ''}`);
    if (!record.ok && !(step.action.kind === 'exec' && step.action.allowFailure)) break;
  }
  return records;
}

type Outcome = { ok: boolean; exitCode?: number; output?: string; error?: string };

/** A step that hangs fails at its timeout, named. */
async function within(ms: number, call: string, body: () => Promise<Outcome>): Promise<Outcome> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<Outcome>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, error: `timed out after ${ms} ms: ${call} (raise the step's timeout if it needs longer)` }), ms);
  });
  try {
    return await Promise.race([body().catch((e: Error): Outcome => ({ ok: false, error: e.message })), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function perform(a: Action, kube: Kube, access: ClusterAccess, timeoutMs: number): Promise<Outcome> {
  switch (a.kind) {
    case 'exec': {
      try {
        const r = await access.node(a.node).exec(a.argv, { check: false, timeoutMs });
        const output = (r.stdout + r.stderr).trim();
        const problems = [
          ...(r.exitCode !== a.expect.exit ? [`exit ${r.exitCode}, expected ${a.expect.exit}`] : []),
          ...(a.expect.output !== undefined && !new RegExp(a.expect.output, 'm').test(output) ? [`output does not match /${a.expect.output}/`] : []),
        ];
        return { ok: !problems.length, exitCode: r.exitCode, ...(output ? { output: output.slice(-2000) } : {}), ...(problems.length ? { error: problems.join('; ') } : {}) };
      } catch (e) {
        return { ok: false, error: e instanceof CommandError ? e.message : (e as Error).message };
      }
    }
    case 'patch': {
      const options = patchAs(kube, a.patchType);
      if (a.resource === 'Node') await kube.core.patchNode({ name: a.name, body: a.body }, options);
      else await kube.apps.patchNamespacedDeployment({ name: a.name, namespace: a.namespace!, body: a.body }, options);
      return { ok: true };
    }
    case 'restart':
      await access.restart(a.node, a.component);
      return { ok: true };
    case 'wait-rollout':
      await waitRollout(kube, a.namespace, a.name, timeoutMs);
      return { ok: true };
    case 'cordon':
    case 'uncordon':
      await setUnschedulable(kube, a.node, a.kind === 'cordon');
      return { ok: true };
    case 'delete-pod': {
      const pods = await podsFor(kube, a.namespace, a.name, a.labelSelector, a.nodes);
      await Promise.all(pods.map((p) => kube.core.deleteNamespacedPod({ namespace: a.namespace, name: p })));
      return { ok: true, output: `deleted ${pods.length ? pods.join(', ') : 'nothing (no pod matched)'}` };
    }
    case 'drain':
      return { ok: true, output: await drain(kube, a.node, Date.now() + timeoutMs) };
    case 'pause':
      await new Promise((r) => setTimeout(r, a.ms));
      return { ok: true };
  }
}

async function setUnschedulable(kube: Kube, node: string, on: boolean) {
  await kube.core.patchNode({ name: node, body: { spec: { unschedulable: on ? true : null } } }, patchAs(kube, 'merge'));
}

async function podsFor(kube: Kube, namespace: string, name?: string, labelSelector?: string, nodes?: string[]): Promise<string[]> {
  const list = await kube.core.listNamespacedPod({ namespace, ...(labelSelector ? { labelSelector } : {}) });
  return list.items.filter((p) => (!name || p.metadata?.name === name) && (!nodes || nodes.includes(p.spec?.nodeName ?? ''))).map((p) => p.metadata!.name!);
}

/** What `kubectl drain --ignore-daemonsets` does: cordon, evict every other pod through the Eviction API, wait until they are gone. */
async function drain(kube: Kube, node: string, deadline: number): Promise<string> {
  await setUnschedulable(kube, node, true);
  const pods = (await kube.core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${node}` })).items.filter((p) => {
    const mirror = p.metadata?.annotations?.['kubernetes.io/config.mirror'];
    const daemon = p.metadata?.ownerReferences?.some((o) => o.kind === 'DaemonSet');
    return !mirror && !daemon && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed';
  });
  for (const p of pods) {
    const { name, namespace } = p.metadata as { name: string; namespace: string };
    for (;;) {
      try {
        await kube.core.createNamespacedPodEviction({ name, namespace, body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace } } });
        break;
      } catch (e) {
        // 429: a PodDisruptionBudget says not now; kubectl drain retries every 5 s.
        if (apiStatus(e) !== 429 || Date.now() > deadline) throw e;
        await new Promise((r) => setTimeout(r, 5000));
      }
    }
  }
  const evicted = new Set(pods.map((p) => p.metadata!.uid!));
  for (;;) {
    const left = (await kube.core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${node}` })).items.filter((p) => evicted.has(p.metadata!.uid!));
    if (!left.length) return `evicted ${pods.map((p) => `${p.metadata!.namespace}/${p.metadata!.name}`).join(', ') || 'nothing'}`;
    if (Date.now() > deadline) throw new Error(`drain ${node}: still on the node: ${left.map((p) => p.metadata!.name).join(', ')}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
