import { Document, isPair, isScalar, isSeq, visit } from 'yaml';
import { type ClusterAccess, type Executor } from '../../src/access.js';
import { type CommandResult } from '../../src/exec.js';
import { type Step } from '../../src/repairs/plan.js';
import { type Runbook, type Scenario, type ScenarioContext } from '../../scenarios/scenario.js';
import { schemaPath } from './schema.js';
import { type FileStep, type RunbookFile } from './format.js';

/**
 * A built-in runbook is code that builds steps from a live context. Run against a context whose
 * every value is a variable ({{node}}, {{vtep_mac}}…), it yields the steps with variables in place
 * of concrete values: printed, that file resolves to the same steps on any cluster.
 */
const PEER = '{{others}}';

/** What the built-in runbooks read from the faulted node, answered with variables. */
const READS: [string[], string][] = [
  [['cat', '/sys/class/net/flannel.1/address'], '{{vtep_mac}}\n'],
  [['cat', '{{subnet_env}}'], 'FLANNEL_SUBNET={{gateway}}\nFLANNEL_MTU={{mtu}}\n'],
  [['ip', '-j', 'link', 'show', 'type', 'veth'], '[{"ifname":"{{item}}"}]'],
  [['ip', '-j', '-4', 'addr', 'show'], '[]'],
];

export function templateContext(): ScenarioContext {
  const executor: Executor = {
    async exec(argv): Promise<CommandResult> {
      const read = READS.find(([a]) => a.length === argv.length && a.every((x, i) => x === argv[i]));
      if (!read) throw new Error(`this runbook reads \`${argv.join(' ')}\` from the node, which no runbook variable stands for`);
      return { argv, exitCode: 0, stdout: read[1], stderr: '', durationMs: 0 };
    },
  };
  const noCluster = () => {
    throw new Error('this runbook needs a live cluster to build its steps');
  };
  const access: ClusterAccess = {
    name: '{{cluster}}',
    kubeconfig: '',
    node: () => executor,
    pod: noCluster,
    nodeFiles: () => ({ subnetEnv: '{{subnet_env}}', cniConflist: '', flannelDataDir: '{{flannel_data_dir}}' }),
    restart: noCluster,
  };
  return {
    kube: new Proxy({}, { get: noCluster }) as ScenarioContext['kube'],
    access,
    nodes: [
      { name: '{{node}}', role: 'worker', ip: '{{node_ip}}' },
      { name: PEER, role: 'worker', ip: '{{others_ip}}' },
    ],
    target: '{{node}}',
    memo: new Proxy({}, { get: (_, key) => `{{fault.${String(key)}}}`, has: () => true }),
  };
}

const selector = (node: string) => (node === '{{node}}' ? 'faulted' : node === PEER ? 'others' : node);

export function toFileStep(step: Step): FileStep {
  const why = step.why ? { why: step.why } : {};
  const each = JSON.stringify(step).includes('{{item}}') ? { for_each: 'pod_veths' as const } : {};
  switch (step.kind) {
    case 'exec':
      if (step.input !== undefined) throw new Error(`a runbook file's step has no standard input: ${step.argv.join(' ')} reads one`);
      return { kind: 'exec', node: selector(step.node), argv: step.argv, ...(step.allowFailure ? { allowFailure: true } : {}), ...each, ...why };
    case 'patch':
      return { kind: 'patch', resource: step.resource, ...(step.namespace ? { namespace: step.namespace } : {}), name: step.name, patchType: step.patchType, body: step.body, ...each, ...why };
    case 'restart':
      return { kind: 'restart', node: selector(step.node), component: step.component, ...each, ...why };
    case 'wait-rollout':
      return { kind: 'wait-rollout', namespace: step.namespace, name: step.name, ...(step.timeoutMs !== 60_000 ? { timeout: `${step.timeoutMs / 1000}s` } : {}), ...why };
    case 'delete-pod':
      return { kind: 'delete-pod', namespace: step.namespace, name: step.name, ...why };
    case 'network-exec':
      throw new Error('a runbook acts on the cluster, not on the network between its nodes');
  }
}

/** Consecutive copies of one step (a loop over a single template veth or peer) print once. */
function dedupe(steps: FileStep[]): FileStep[] {
  return steps.filter((s, i) => i === 0 || JSON.stringify(s) !== JSON.stringify(steps[i - 1]));
}

export async function runbookAsFile(runbook: Runbook): Promise<RunbookFile> {
  return { description: runbook.description, steps: dedupe((await runbook.steps(templateContext())).map(toFileStep)) };
}

/** The runbook as the YAML a team starts from. */
export async function showRunbook(scenario: Scenario, variant: string): Promise<string> {
  const runbook = scenario.runbooks[variant]!;
  const file = await runbookAsFile(runbook);
  const header = [
    `# yaml-language-server: $schema=${schemaPath()}`,
    `# firedrill runbook: ${scenario.id}, variant ${variant}${runbook.incidentSays ? ` (the incident report says it ${runbook.incidentSays === 'recovered' ? 'recovered' : 'did not recover'})` : ''}`,
    `# validate it: firedrill validate FILE --scenario ${scenario.id}`,
  ];
  const doc = new Document(file);
  // An argv reads best on one line, as it would be typed.
  visit(doc, { Pair: (_, pair) => void (isPair(pair) && isScalar(pair.key) && pair.key.value === 'argv' && isSeq(pair.value) && (pair.value.flow = true)) });
  return `${header.join('\n')}\n${doc.toString({ lineWidth: 0 })}`;
}
