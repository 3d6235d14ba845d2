import { hostname } from 'node:os';
import { basename } from 'node:path';
import { FAULT_PREFIX, type FileStep, PLACEHOLDER, type RunbookFile, VARIABLES } from './format.js';
import { type Position } from './parse.js';

export interface Problem {
  at?: Position;
  /** The field, as a path: steps.2.argv. */
  field: string;
  message: string;
}

export interface LintResult {
  errors: Problem[];
  warnings: Problem[];
}

const SHELLS = new Set(['sh', 'bash', 'dash', 'zsh', 'ash', 'ksh']);
/** Names that mean the machine firedrill runs on, never a cluster node. */
const HOST_NAMES = () => new Set(['host', 'localhost', hostname()]);

/** Strings inside a value, with their path below it. */
function* strings(value: unknown, path: (string | number)[]): Generator<[string, (string | number)[]]> {
  if (typeof value === 'string') yield [value, path];
  else if (Array.isArray(value)) for (const [i, v] of value.entries()) yield* strings(v, [...path, i]);
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) yield* strings(v, [...path, k]);
}

/** What can be known of a runbook without a cluster: unknown variables, shell strings, steps aimed at the host. */
export function lintRunbook(runbook: RunbookFile, at: (path: (string | number)[]) => Position | undefined = () => undefined): LintResult {
  const errors: Problem[] = [];
  const warnings: Problem[] = [];
  const problem = (list: Problem[], path: (string | number)[], message: string) => {
    const p = at(path);
    list.push({ ...(p ? { at: p } : {}), field: path.join('.'), message });
  };
  runbook.steps.forEach((step, i) => {
    const here = ['steps', i];
    let usesItem = false;
    for (const [text, path] of strings(step, here)) {
      for (const [, name] of text.matchAll(PLACEHOLDER)) {
        if (name === 'item') usesItem = true;
        if (!(name! in VARIABLES) && !name!.startsWith(FAULT_PREFIX)) problem(errors, path, `unknown variable {{${name}}}; known: ${Object.keys(VARIABLES).map((v) => `{{${v}}}`).join(', ')}, {{fault.KEY}}`);
      }
    }
    if (usesItem && !('for_each' in step && step.for_each)) problem(errors, here, '{{item}} needs for_each on its step');
    if ('for_each' in step && step.for_each && !usesItem) problem(warnings, [...here, 'for_each'], `for_each: ${step.for_each} repeats the same step: use {{item}} in it`);
    if ('node' in step && step.node && HOST_NAMES().has(step.node)) problem(errors, [...here, 'node'], `"${step.node}" is the machine firedrill runs on, not a cluster node: a runbook acts on the cluster only`);
    if (step.kind === 'exec') execProblems(step, (path, message, error) => problem(error ? errors : warnings, [...here, ...path], message));
    if (step.kind === 'delete-pod' && !step.name === !step.labelSelector) problem(errors, here, 'delete-pod takes a name or a labelSelector (one of them)');
    if (step.kind === 'patch' && step.resource === 'Deployment' && !step.namespace) problem(errors, here, 'a Deployment patch needs its namespace');
    if (step.kind === 'patch' && step.resource === 'Node' && step.namespace) problem(errors, [...here, 'namespace'], 'a Node has no namespace');
  });
  return { errors, warnings };
}

function execProblems(step: Extract<FileStep, { kind: 'exec' }>, report: (path: (string | number)[], message: string, error: boolean) => void) {
  const [program, ...args] = step.argv;
  const name = basename(program!);
  if (SHELLS.has(name) && args.includes('-c')) {
    report(['argv'], `runs a shell string (${name} -c): its quoting, globbing and variables are not checked, and the validator cannot show what it will do; prefer one step per command`, false);
  }
  // The node's own namespace is where the step runs: these leave it for another one (the host's, on a lab).
  if (name === 'nsenter' || (name === 'ip' && (args[0] === 'netns' || args[0] === '-n' || args[0] === '-netns')) || name === 'chroot') {
    report(['argv'], `${[name, ...args.slice(0, 2)].join(' ')} leaves the node's namespace (on a lab it reaches the host's): a runbook acts on the cluster only`, true);
  }
}

export function formatProblem(file: string, p: Problem): string {
  return `${file}:${p.at ? `${p.at.line}:${p.at.col}` : '1:1'}: ${p.field}: ${p.message}`;
}
