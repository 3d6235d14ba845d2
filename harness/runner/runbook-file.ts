import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { type Step } from '../../src/repairs/plan.js';
import { type Runbook, type ScenarioContext } from '../../scenarios/scenario.js';
import { usageError } from '../errors.js';

/**
 * A team's own runbook, to validate before production: JSON steps, `{{target}}` standing for
 * the faulted node in node names and arguments.
 *   {"description": "…", "steps": [{"kind": "exec", "node": "{{target}}", "argv": ["sysctl", "-w", "net.ipv4.ip_forward=1"]}]}
 */
const FileStep = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('exec'), node: z.string(), argv: z.array(z.string()).min(1), why: z.string().default('runbook step'), allowFailure: z.boolean().optional() }),
  z.strictObject({
    kind: z.literal('patch'),
    resource: z.enum(['Node', 'Deployment']),
    namespace: z.string().optional(),
    name: z.string(),
    patchType: z.enum(['merge', 'strategic']),
    body: z.unknown(),
    why: z.string().default('runbook step'),
  }),
  z.strictObject({ kind: z.literal('restart'), node: z.string(), component: z.enum(['flanneld', 'kubelet']), why: z.string().default('runbook step') }),
  z.strictObject({ kind: z.literal('wait-rollout'), namespace: z.string(), name: z.string(), timeoutMs: z.number().int().positive().default(60_000), why: z.string().default('runbook step') }),
]);
const RunbookFile = z.strictObject({ description: z.string().default('runbook from a file'), steps: z.array(FileStep).min(1) });

export async function loadRunbookFile(path: string): Promise<Runbook> {
  const text = await readFile(path, 'utf8').catch((e: Error) => {
    throw usageError(`cannot read runbook file ${path}: ${e.message}`, '--runbook takes auto, manual, naive, flannel-restart or the path of a JSON runbook');
  });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw usageError(`${path} is not valid JSON: ${(e as Error).message}`, 'see README, "Validating a runbook"');
  }
  const parsed = RunbookFile.safeParse(json);
  if (!parsed.success) {
    throw usageError(`${path} is not a valid runbook: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`, 'see README, "Validating a runbook"');
  }
  return {
    description: parsed.data.description,
    nodes: [...new Set(parsed.data.steps.flatMap((s) => ('node' in s && !s.node.includes('{{target}}') ? [s.node] : [])))],
    steps: async (ctx: ScenarioContext) => parsed.data.steps.map((s) => fill(s, ctx.target) as Step),
  };
}

function fill(value: unknown, target: string): unknown {
  if (typeof value === 'string') return value.replaceAll('{{target}}', target);
  if (Array.isArray(value)) return value.map((v) => fill(v, target));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v, target)]));
  return value;
}
