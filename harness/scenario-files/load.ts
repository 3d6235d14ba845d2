import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { probeLargePackets } from '../../src/probes/large-packet.js';
import { failedDns, failedPings, isGreen, type ProbeReport } from '../../src/probes/types.js';
import { type Step } from '../../src/repairs/plan.js';
import { firstWorker, type Scenario, type ScenarioContext, type ScenarioNode, targetCutOff } from '../../scenarios/scenario.js';
import { failure, usageError } from '../errors.js';
import { FAULT_PREFIX, type FileStep, PLACEHOLDER } from '../runbooks/format.js';
import { formatProblem, lintRunbook, type LintResult, type Problem } from '../runbooks/lint.js';
import { parseYamlFile, type Position } from '../runbooks/parse.js';
import { resolveRunbook, Variables } from '../runbooks/resolve.js';
import { toLibraryStep } from '../runner/runbook-file.js';
import { RECOVERIES, ScenarioFile, type ScenarioStep, SYMPTOMS } from './format.js';

const HINT = 'see the README, "Your own scenarios" (`firedrill scenarios show ip-forward-off` prints a working one)';

/**
 * A scenario file, parsed (line, column and field on every error) and checked without a cluster:
 * its steps as a runbook's are (variables, shell strings, steps aimed at the host), and only steps
 * the drill applies as it applies a built-in scenario's.
 */
export async function readScenarioFile(path: string): Promise<{ file: ScenarioFile; lint: LintResult; sha256: string }> {
  const text = await readFile(path, 'utf8').catch((e: Error) => {
    throw usageError(`cannot read scenario file ${path}: ${e.message}`, HINT);
  });
  const { data, at } = parseYamlFile(text, path, ScenarioFile, `scenario ${path}`);
  const lint = lintScenario(data, at);
  if (lint.errors.length) throw usageError(`scenario ${path} is not valid:\n  ${lint.errors.map((p) => formatProblem(path, p)).join('\n  ')}`, HINT);
  return { file: data, lint, sha256: createHash('sha256').update(text).digest('hex') };
}

export function lintScenario(file: ScenarioFile, at: (path: (string | number)[]) => Position | undefined = () => undefined): LintResult {
  const errors: Problem[] = [];
  const warnings: Problem[] = [];
  for (const list of ['inject', 'restore'] as const) {
    const steps = file[list];
    if (!steps.length) continue;
    // A network step is linted as a command: its variables, its shell strings.
    const asRunbook = { description: '', steps: steps.map((s): FileStep => (s.kind === 'network-exec' ? { kind: 'exec', node: 'network', argv: s.argv } : s)) };
    const where = (path: (string | number)[]) => [list, ...path.slice(1)];
    const moved = (p: Problem): Problem => ({ ...p, field: p.field.replace(/^steps/, list) });
    const result = lintRunbook(asRunbook, (path) => at(where(path)));
    errors.push(...result.errors.map(moved));
    warnings.push(...result.warnings.map(moved));
    steps.forEach((step, i) => {
      const problem = unsupported(step);
      if (problem) errors.push({ ...(at([list, i]) ? { at: at([list, i])! } : {}), field: `${list}.${i}`, message: problem });
      for (const [, name] of JSON.stringify(step).matchAll(PLACEHOLDER)) {
        if (name!.startsWith(FAULT_PREFIX)) errors.push({ ...(at([list, i]) ? { at: at([list, i])! } : {}), field: `${list}.${i}`, message: `{{${name}}}: a scenario file records no values when it injects; use the variables a runbook has` });
      }
    });
  }
  return { errors, warnings };
}

/** What the drill cannot apply: it applies a scenario's steps as the library applies a repair's. */
function unsupported(step: ScenarioStep): string | undefined {
  if (step.kind === 'delete-pod' || step.kind === 'drain' || step.kind === 'pause') return `a ${step.kind} step cannot be part of a fault: steps are exec, network-exec, patch, restart, wait-rollout, cordon and uncordon`;
  if (step.kind === 'network-exec') return undefined;
  if (step.kind === 'exec' && step.expect) return 'expect is for runbooks: a fault step fails when it exits non-zero (allowFailure: true lets it)';
  if (step.retries) return 'retries are for runbooks: a fault step runs once';
  if (step.timeout !== undefined && step.kind !== 'wait-rollout') return 'timeout is for runbooks (and a fault\'s wait-rollout)';
  return undefined;
}

/** The steps of a list, resolved against the live cluster as library steps. */
async function resolveSteps(list: 'inject' | 'restore', steps: ScenarioStep[], ctx: ScenarioContext): Promise<Step[]> {
  const vars = new Variables(ctx, ctx.access.name);
  const out: Step[] = [];
  for (const [i, step] of steps.entries()) {
    const why = step.why ?? `${list} step ${i + 1}`;
    if (step.kind === 'network-exec') out.push({ kind: 'network-exec', argv: await vars.fillArgv(step.argv), why: await vars.fill(why) });
    else out.push(...(await resolveRunbook({ description: '', steps: [{ ...step, why }] }, vars)).map((r) => toLibraryStep(r.action, r.why, r.timeoutMs)));
  }
  return out;
}

function defaultTarget(target: string) {
  return (nodes: ScenarioNode[]) => {
    if (target === 'first-worker') return firstWorker(nodes);
    if (target === 'control-plane') return (nodes.find((n) => n.role === 'control-plane') ?? nodes[0]!).name;
    return target;
  };
}

/** Some large ping between probe pods on different nodes (involving that node, if one is named) fails. */
async function largePacketsFail(ctx: ScenarioContext, involving?: string): Promise<boolean> {
  return (await probeLargePackets(ctx.kube, ctx.access)).some((r) => !r.ok && (!involving || r.sourceNode === involving || r.targetNode === involving));
}

const SEEN: Record<keyof typeof SYMPTOMS, (report: ProbeReport, ctx: ScenarioContext) => boolean | Promise<boolean>> = {
  'target-cut-off': targetCutOff,
  'dns-fails-elsewhere': (report, ctx) => failedDns(report).some((d) => d.sourceNode !== ctx.target),
  'large-packets-fail': async (report, ctx) => !failedPings(report).length && (await largePacketsFail(ctx, ctx.target)),
  'any-ping-fails': (report) => failedPings(report).length > 0,
  'any-dns-fails': (report) => failedDns(report).length > 0,
};

/** Symptoms a fault of a single pod can show: the full matrix looks for them, every pod pair. */
const SEEN_IN_FULL_MATRIX: ReadonlySet<keyof typeof SYMPTOMS> = new Set(['any-ping-fails', 'any-dns-fails']);

const RECOVERED: Record<keyof typeof RECOVERIES, (report: ProbeReport, ctx: ScenarioContext) => boolean> = {
  'all-green': (report) => isGreen(report),
  'others-green': (report, ctx) =>
    report.dns.filter((d) => d.sourceNode !== ctx.target).every((d) => d.ok) && failedPings(report).every((p) => p.sourceNode === ctx.target || p.targetNode === ctx.target),
};

/** The file as a scenario the drill runner, validate and inject run like a built-in one. */
export function scenarioFromFile(file: ScenarioFile): Scenario {
  const recovered = RECOVERED[file.recovered];
  return {
    id: file.id,
    title: file.title,
    incident: file.incident,
    defaultTarget: defaultTarget(file.target),
    inject: (ctx) => resolveSteps('inject', file.inject, ctx),
    restore: (ctx) => resolveSteps('restore', file.restore, ctx),
    symptom: {
      description: file.symptom.description ?? SYMPTOMS[file.symptom.seen],
      seen: SEEN[file.symptom.seen],
      ...(SEEN_IN_FULL_MATRIX.has(file.symptom.seen) ? { matrix: 'full' as const } : {}),
    },
    recovered:
      file.symptom.seen === 'large-packets-fail'
        ? async (report, ctx) => recovered(report, ctx) && !(await largePacketsFail(ctx))
        : recovered,
    detects: [...file.detects],
    runbooks: {},
  };
}

/** Where a scenario came from when it is a file: what `firedrill restore` loads again, and checks is unchanged. */
export interface ScenarioSource {
  /** Absolute. */
  path: string;
  /** Of the file's text, as it was parsed. */
  sha256: string;
}

/** `--scenario-file FILE`: the scenario and its source, with the file's warnings said once. */
export async function loadScenarioFile(path: string, say: (line: string) => void): Promise<{ scenario: Scenario; source: ScenarioSource }> {
  const { file, lint, sha256 } = await readScenarioFile(path);
  for (const w of lint.warnings) say(`warning: ${formatProblem(path, w)}`);
  return { scenario: scenarioFromFile(file), source: { path: resolve(path), sha256 } };
}

/** The scenario of a file injected before, refused if the file is no longer what it was then: its restore steps are to undo those inject steps. */
export async function reloadScenarioFile(source: ScenarioSource, hint: string): Promise<Scenario> {
  const { file, sha256 } = await readScenarioFile(source.path).catch((e: Error) => {
    throw failure(`scenario file ${source.path} cannot be loaded again: ${e.message.split('\n')[0]}`, hint);
  });
  if (sha256 !== source.sha256) throw failure(`scenario file ${source.path} changed since it was injected (sha256 ${source.sha256.slice(0, 12)}… then, ${sha256.slice(0, 12)}… now): its restore steps may no longer undo what its inject steps did`, hint);
  return scenarioFromFile(file);
}
