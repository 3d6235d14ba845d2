import { z } from 'zod';

/**
 * A team's runbook as a file (YAML; JSON is YAML too), defined once here: the loader validates with
 * it and schema/runbook.schema.json is generated from it (`z.toJSONSchema`), for editors.
 */

/** `{{name}}` placeholders the runner fills from the cluster and the faulted node. */
export const VARIABLES = {
  node: 'the faulted node',
  target: 'the faulted node (older name of {{node}})',
  peers: 'the other nodes: one argument each when an argv item is exactly "{{peers}}", else comma-separated',
  node_ip: "the faulted node's InternalIP",
  subnet: "the faulted node's pod subnet (10.244.1.0/24)",
  gateway: "the faulted node's cni0 address with its prefix, FLANNEL_SUBNET of subnet.env (10.244.1.1/24)",
  mtu: 'FLANNEL_MTU of the faulted node\'s subnet.env',
  vtep_mac: "the MAC of the faulted node's flannel.1",
  cluster: 'the cluster name',
  flannel_data_dir: "the flannel CNI plugin's data dir on the node (/var/lib/cni/flannel on kind)",
  subnet_env: "the path of flanneld's subnet.env on the node (/run/flannel/subnet.env on kind)",
  item: 'the current item of the step\'s for_each',
} as const;
/** `{{fault.KEY}}`: a value a built-in scenario's injection recorded (the wrong MAC it wrote…). */
export const FAULT_PREFIX = 'fault.';
export const PLACEHOLDER = /\{\{\s*([\w.]+)\s*\}\}/g;

/** Lists a step can repeat over with `for_each`, `{{item}}` standing for each element. */
const LISTS = ['peers', 'pod_veths'] as const;

const Duration = z
  .union([z.number().positive().describe('seconds'), z.string().regex(/^\d+(\.\d+)?(ms|s|m)$/, 'a duration like 500ms, 30s or 2m')])
  .describe('a number of seconds, or 500ms / 30s / 2m');

const NodeSelector = z
  .string()
  .min(1)
  .describe('faulted (the faulted node), all, others (every node but the faulted one), a node name, or {{node}}');

const common = {
  why: z.string().optional().describe('what this step is for, shown in plans and reports'),
  timeout: Duration.optional().describe('fail the step when it takes longer (default 30s; a rollout or drain: 60s)'),
  retries: z.number().int().min(0).max(20).optional().describe('run the step again this many times while it fails'),
  for_each: z.enum(LISTS).optional().describe('repeat the step for every element of this list, as {{item}}'),
};

const Expect = z
  .strictObject({
    exit: z.number().int().min(0).max(255).optional().describe('the exit code the step must return (default 0)'),
    output: z.string().optional().describe('a regular expression the output (stdout and stderr) must match'),
  })
  .describe('what a successful step looks like');

export const FileStep = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('exec'),
    node: NodeSelector,
    argv: z.array(z.string()).min(1).describe('the command, one item per argument: never a shell string'),
    expect: Expect.optional(),
    allowFailure: z.boolean().optional().describe('go on with the next step when this one fails'),
    ...common,
  }),
  z.strictObject({
    kind: z.literal('patch'),
    resource: z.enum(['Node', 'Deployment']),
    namespace: z.string().optional().describe('for a Deployment'),
    name: z.string(),
    patchType: z.enum(['merge', 'strategic']),
    body: z.unknown(),
    ...common,
  }),
  z.strictObject({ kind: z.literal('restart'), node: NodeSelector, component: z.enum(['flanneld', 'kubelet']), ...common }),
  z.strictObject({ kind: z.literal('wait-rollout'), namespace: z.string(), name: z.string().describe('the Deployment'), ...common }),
  z.strictObject({
    kind: z.literal('delete-pod'),
    namespace: z.string(),
    name: z.string().optional().describe('one pod by name'),
    labelSelector: z.string().optional().describe('or every pod matching this label selector'),
    node: NodeSelector.optional().describe('only pods on these nodes'),
    ...common,
  }),
  z.strictObject({ kind: z.literal('cordon'), node: NodeSelector, ...common }),
  z.strictObject({ kind: z.literal('uncordon'), node: NodeSelector, ...common }),
  z.strictObject({ kind: z.literal('drain'), node: NodeSelector.describe('cordon, then evict every pod but DaemonSet and mirror pods, as kubectl drain --ignore-daemonsets'), ...common }),
  z.strictObject({ kind: z.literal('pause'), duration: Duration, why: z.string().optional() }),
]);
export type FileStep = z.infer<typeof FileStep>;

export const RunbookFile = z
  .strictObject({
    description: z.string().default('runbook from a file'),
    steps: z.array(FileStep).min(1),
  })
  .describe('a firedrill runbook: steps run in order against the faulted node and its cluster (see the README, "Validating a runbook")');
export type RunbookFile = z.infer<typeof RunbookFile>;

export function runbookJsonSchema(): unknown {
  return { ...z.toJSONSchema(RunbookFile, { io: 'input' }), title: 'firedrill runbook' };
}

/** Milliseconds of a Duration. */
export function toMs(d: number | string): number {
  if (typeof d === 'number') return Math.round(d * 1000);
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(d)!;
  return Math.round(Number(m[1]) * { ms: 1, s: 1000, m: 60_000 }[m[2] as 'ms' | 's' | 'm']);
}
