import { z } from 'zod';

/**
 * The run journal, the one contract between `firedrill run` and every reporter: defined here once,
 * its JSON Schema generated from this (schema/journal.schema.json, `npm run schema`). Bump the
 * version when a change would make an older reader misread a newer journal.
 */
export const JOURNAL_SCHEMA_VERSION = 1;

const Evidence = z.object({ source: z.string().describe('where it was read: a command on a node, or an API object'), observed: z.unknown(), expected: z.unknown().optional() });

/** A finding as recorded (src/findings.ts; kinds as strings, so a journal from a newer library still reads). */
export const JournalFinding = z.object({
  kind: z.string(),
  severity: z.enum(['critical', 'warning']),
  node: z.string().optional(),
  summary: z.string(),
  evidence: z.array(Evidence),
  repair: z.string().optional(),
  detail: z.record(z.string(), z.unknown()).optional(),
});

/** A repair or runbook step as recorded (src/repairs/plan.ts Step). */
const JournalRepairStep = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('exec'), node: z.string(), argv: z.array(z.string()), input: z.string().optional(), why: z.string(), allowFailure: z.boolean().optional() }),
  z.object({ kind: z.literal('network-exec'), argv: z.array(z.string()), why: z.string() }),
  z.object({
    kind: z.literal('patch'),
    resource: z.enum(['Node', 'Deployment']),
    namespace: z.string().optional(),
    name: z.string(),
    patchType: z.enum(['merge', 'strategic']),
    body: z.unknown(),
    why: z.string(),
  }),
  z.object({ kind: z.literal('restart'), node: z.string(), component: z.enum(['flanneld', 'kubelet']), why: z.string() }),
  z.object({ kind: z.literal('wait-rollout'), namespace: z.string(), name: z.string(), timeoutMs: z.number(), why: z.string() }),
  z.object({ kind: z.literal('delete-pod'), namespace: z.string(), name: z.string(), uid: z.string(), why: z.string() }),
]);

export const JournalStepResult = z.object({ step: JournalRepairStep, ok: z.boolean(), durationMs: z.number(), output: z.string().optional(), error: z.string().optional() });

const PingResult = z.object({
  kind: z.literal('ping'),
  source: z.string(),
  sourceNode: z.string(),
  target: z.string(),
  targetNode: z.string(),
  targetIp: z.string(),
  targetKind: z.enum(['pod', 'gateway']),
  ok: z.boolean(),
  rttMs: z.number().optional(),
});

const DnsResult = z.object({
  kind: z.literal('dns'),
  source: z.string(),
  sourceNode: z.string(),
  server: z.string(),
  name: z.string(),
  ok: z.boolean(),
  answer: z.string().optional(),
  error: z.string().optional(),
  rttMs: z.number(),
});

export const JournalProbeReport = z.object({ at: z.string(), durationMs: z.number(), ping: z.array(PingResult), dns: z.array(DnsResult) });

export const Verdict = z.enum(['recovered', 'not-recovered', 'no-symptom', 'not-detected', 'error']);

export const JournalStep = z.object({
  name: z.enum(['steady-state', 'inject', 'symptom', 'detect', 'repair', 'verify', 'restore']),
  startedAt: z.iso.datetime(),
  endedAt: z.iso.datetime(),
  durationMs: z.number(),
  ok: z.boolean(),
  detail: z.string().optional(),
});

/** One drill, as plain data: nothing in it refers back to live objects. */
export const DrillJournal = z.object({
  scenario: z.string(),
  title: z.string(),
  target: z.string(),
  backend: z.string(),
  cluster: z.string(),
  repairer: z.string(),
  /** Which pass of --repeat this drill belongs to, from 1. */
  repeat: z.number().int().min(1),
  startedAt: z.iso.datetime(),
  endedAt: z.iso.datetime().optional(),
  steps: z.array(JournalStep),
  injected: z.array(JournalStepResult),
  symptom: z.object({ seen: z.boolean(), atMs: z.number().optional(), description: z.string() }).optional(),
  detection: z.object({ finding: JournalFinding.optional(), mttdMs: z.number().optional() }).optional(),
  repair: z.array(JournalStepResult),
  recovery: z.object({ mttrMs: z.number().optional() }).optional(),
  restore: z.array(JournalStepResult),
  findings: z.object({ detected: z.array(JournalFinding), remaining: z.array(JournalFinding) }).describe('every finding of the detection diagnosis, and what was still found when the repairer gave up'),
  probes: z.array(JournalProbeReport),
  verdict: Verdict,
  incident: z.object({ says: z.enum(['recovered', 'did-not-recover']), agrees: z.boolean() }).optional().describe("for an incident's runbook: what the incident report says it did, and whether this drill agrees"),
  error: z.string().optional(),
});

const Percentiles = z.object({ n: z.number().int(), p50: z.number(), p95: z.number(), max: z.number() });

/** One scenario with one repairer on one backend over every repeat. */
export const ScenarioStats = z.object({
  scenario: z.string(),
  backend: z.string(),
  repairer: z.string(),
  runs: z.number().int(),
  recovered: z.number().int(),
  status: z.enum(['passed', 'failed', 'flaky']).describe('flaky: recovered in some repeats, not in others'),
  failingRepeats: z.array(z.number().int()),
  mttdMs: Percentiles.optional(),
  mttrMs: Percentiles.optional(),
});

export const JournalCluster = z.object({
  backend: z.string(),
  name: z.string(),
  nodes: z.array(z.object({ name: z.string(), role: z.enum(['control-plane', 'worker']), ip: z.string() })),
});

/** A whole `firedrill run`: what ran, where, with which versions, and every drill. */
export const RunJournal = z.object({
  schemaVersion: z.literal(JOURNAL_SCHEMA_VERSION),
  firedrill: z.object({ version: z.string() }),
  components: z.record(z.string(), z.string()).describe("the component manifest's versions, by component"),
  host: z.object({ hostname: z.string(), kernel: z.string(), arch: z.string(), node: z.string() }),
  argv: z.array(z.string()).describe('the CLI arguments after `firedrill`'),
  repeat: z.number().int().min(1),
  clusters: z.array(JournalCluster),
  startedAt: z.iso.datetime(),
  endedAt: z.iso.datetime(),
  drills: z.array(DrillJournal),
  scenarios: z.array(ScenarioStats),
});

export type JournalFinding = z.infer<typeof JournalFinding>;
export type JournalStepResult = z.infer<typeof JournalStepResult>;
export type JournalStep = z.infer<typeof JournalStep>;
export type Verdict = z.infer<typeof Verdict>;
export type DrillJournal = z.infer<typeof DrillJournal>;
export type ScenarioStats = z.infer<typeof ScenarioStats>;
export type JournalCluster = z.infer<typeof JournalCluster>;
export type RunJournal = z.infer<typeof RunJournal>;

/** The JSON Schema of the run journal, as committed in schema/journal.schema.json. */
export function journalJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(RunJournal.meta({ title: 'firedrill run journal' }), { target: 'draft-2020-12', io: 'output' });
}
