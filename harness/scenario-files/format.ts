import { z } from 'zod';
import { type FindingKind } from '../../src/findings.js';
import { FileStep } from '../runbooks/format.js';

/**
 * A team's own incident as a file (YAML; JSON is YAML too), in the runbook format's step language,
 * defined once here: the loader validates with it and schema/scenario.schema.json is generated
 * from it (a test keeps them equal), for editors.
 */

/**
 * The finding kinds a file may name (FindingKind is a type only). The compiler refuses a name that is
 * not a FindingKind; a kind added to src/findings.ts must be added here to be named in a file.
 */
const FINDING_KINDS = [
  'pod-unreachable',
  'dns-failing',
  'cni0-missing',
  'cni0-misconfigured',
  'veth-orphaned',
  'veth-down',
  'hairpin-off',
  'ip-forward-off',
  'interface-forwarding-off',
  'policy-routing-divert',
  'pod-traffic-dropped',
  'vtep-annotation-mismatch',
  'vxlan-neighbour-wrong',
  'vxlan-fdb-missing',
  'vxlan-fdb-stale',
  'vxlan-route-missing',
  'vxlan-device-missing',
  'vxlan-device-down',
  'vxlan-device-misconfigured',
  'vxlan-blocked',
  'forward-blocked',
  'forward-policy-drop',
  'node-pod-network-unreachable',
  'dns-on-unreachable-node',
  'dns-no-endpoints',
  'dns-scaled-to-zero',
] as const satisfies readonly FindingKind[];

/** What the probes must show once the fault is in, as a name (code cannot live in a file). */
export const SYMPTOMS = {
  'target-cut-off': "pings between the faulted node's pods and pods on other nodes fail",
  'dns-fails-elsewhere': 'DNS lookups from pods on the other nodes fail',
  'large-packets-fail': "large packets (4000 bytes, fragmented by the pod) between the faulted node's pods and pods on other nodes fail, while pings pass",
  'any-ping-fails': 'some ping of the matrix fails',
  'any-dns-fails': 'some DNS lookup fails',
} as const;

export const RECOVERIES = {
  'all-green': 'every ping and DNS lookup passes (and every large packet, when the symptom is large-packets-fail)',
  'others-green': 'DNS answers on every other node and no ping fails but to or from the faulted node (the node itself may stay cut off)',
} as const;

const keys = <T extends object>(o: T) => Object.keys(o) as [keyof T & string, ...(keyof T & string)[]];

/** The fault's steps: the runbook steps the library can apply, and commands in the network between the nodes. */
const NetworkExec = z.strictObject({
  kind: z.literal('network-exec'),
  argv: z.array(z.string()).min(1).describe("a command in the network between the nodes (a lab's underlay namespace, the host's bridge for kind); an iptables rule there must carry the comment firedrill:{{cluster}}"),
  why: z.string().optional().describe('what this step is for, shown in journals'),
});
export const ScenarioStep = z.discriminatedUnion('kind', [...FileStep.options, NetworkExec]);
export type ScenarioStep = z.infer<typeof ScenarioStep>;

export const ScenarioFile = z
  .strictObject({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lowercase letters, digits and dashes').describe('the name journals and reports use'),
    title: z.string(),
    incident: z.string().default('').describe('what happened, as the incident report tells it'),
    target: z.string().min(1).default('first-worker').describe('the node to fault: first-worker, control-plane, or a node name (`run --target` overrides it)'),
    inject: z.array(ScenarioStep).min(1).describe('the fault, step by step, on the target ({{node}}) and its cluster'),
    restore: z.array(ScenarioStep).default([]).describe("undoes exactly what inject did (anything else is left to the library's repair)"),
    symptom: z.strictObject({
      seen: z.enum(keys(SYMPTOMS)).describe(Object.entries(SYMPTOMS).map(([k, v]) => `${k}: ${v}`).join('; ')),
      description: z.string().optional().describe('what the symptom looks like, for journals (default: the description of `seen`)'),
    }),
    recovered: z.enum(keys(RECOVERIES)).default('all-green').describe(Object.entries(RECOVERIES).map(([k, v]) => `${k}: ${v}`).join('; ')),
    detects: z.array(z.enum(FINDING_KINDS)).min(1).describe('finding kinds that count as detecting this fault'),
  })
  .describe('a firedrill scenario: a fault to drill with `firedrill run`, `inject` or `validate --scenario-file FILE` (see the README, "Your own scenarios")');
export type ScenarioFile = z.infer<typeof ScenarioFile>;

export function scenarioJsonSchema(): unknown {
  return { ...z.toJSONSchema(ScenarioFile, { io: 'input' }), title: 'firedrill scenario' };
}
