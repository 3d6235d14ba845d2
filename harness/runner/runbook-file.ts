import { readFile } from 'node:fs/promises';
import { type Step } from '../../src/repairs/plan.js';
import { type Runbook, type ScenarioContext } from '../../scenarios/scenario.js';
import { usageError } from '../errors.js';
import { type FileStep, RunbookFile } from '../runbooks/format.js';
import { formatProblem, lintRunbook, type LintResult } from '../runbooks/lint.js';
import { parseYamlFile } from '../runbooks/parse.js';
import { type Action, resolveRunbook, Variables } from '../runbooks/resolve.js';

/**
 * A team's own runbook, to validate before production: a YAML (or JSON) file of steps, checked
 * against harness/runbooks/format.ts (schema/runbook.schema.json). Errors name line, column and field.
 */
export async function readRunbookFile(path: string): Promise<{ file: RunbookFile; lint: LintResult }> {
  const text = await readFile(path, 'utf8').catch((e: Error) => {
    throw usageError(`cannot read runbook file ${path}: ${e.message}`, '--runbook takes auto, manual, naive, flannel-restart or the path of a YAML (or JSON) runbook');
  });
  const { data, at } = parseYamlFile(text, path, RunbookFile, `runbook ${path}`);
  const lint = lintRunbook(data, at);
  if (lint.errors.length) throw usageError(`runbook ${path} is not valid:\n  ${lint.errors.map((p) => formatProblem(path, p)).join('\n  ')}`, 'see the README, "Validating a runbook"');
  return { file: data, lint };
}

/** Steps only `firedrill validate` runs (the drill runner applies plain library steps). */
function needsValidate(step: FileStep): string | undefined {
  if (step.kind === 'delete-pod' || step.kind === 'drain' || step.kind === 'pause') return `a ${step.kind} step`;
  if (step.kind !== 'exec') return step.retries || (step.timeout !== undefined && step.kind !== 'wait-rollout') ? 'retries or timeout' : undefined;
  if (step.expect || step.retries || step.timeout !== undefined || step.for_each) return 'expect, retries, timeout or for_each';
  return undefined;
}

/** The runbook for `firedrill run --runbook FILE`. */
export async function loadRunbookFile(path: string): Promise<Runbook> {
  const { file } = await readRunbookFile(path);
  const unsupported = file.steps.map(needsValidate).find(Boolean);
  if (unsupported) throw usageError(`runbook ${path} uses ${unsupported}, which \`firedrill run\` does not run`, `drill it with \`firedrill validate ${path} --scenario SCENARIO\``);
  const selectors = new Set(['faulted', 'all', 'others']);
  return {
    description: file.description,
    nodes: [...new Set(file.steps.flatMap((s) => ('node' in s && s.node && !s.node.includes('{{') && !selectors.has(s.node) ? [s.node] : [])))],
    steps: async (ctx: ScenarioContext) => (await resolveRunbook(file, new Variables(ctx, ctx.access.name))).map((r) => toLibraryStep(r.action, r.why, r.timeoutMs)),
  };
}

export function toLibraryStep(a: Action, why: string, timeoutMs: number): Step {
  switch (a.kind) {
    case 'exec':
      return { kind: 'exec', node: a.node, argv: a.argv, why, ...(a.allowFailure ? { allowFailure: true } : {}) };
    case 'patch':
      return { ...a, why };
    case 'restart':
      return { ...a, why };
    case 'wait-rollout':
      return { ...a, timeoutMs, why };
    case 'cordon':
    case 'uncordon':
      return { kind: 'patch', resource: 'Node', name: a.node, patchType: 'merge', body: { spec: { unschedulable: a.kind === 'cordon' ? true : null } }, why };
    default:
      throw new Error(`${a.kind}: not a library step`);
  }
}
