import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { repairCluster } from '../../src/doctor.js';
import { connect } from '../../src/kube/client.js';
import { tryParseJson } from '../../src/json.js';
import { applySteps } from '../../src/repairs/apply.js';
import { scenarioById, scenarios } from '../../scenarios/index.js';
import { type ScenarioContext } from '../../scenarios/scenario.js';
import { type Backend } from '../backends/backend.js';
import { backendNamed } from '../backends/index.js';
import { ExitCode, failure, usageError } from '../errors.js';
import { formatResults } from '../report/findings.js';
import { table } from '../report/table.js';

const Injections = z.array(z.object({ scenario: z.string(), target: z.string(), memo: z.record(z.string(), z.unknown()), at: z.string() }));
const injectionsFile = (backend: Backend, name: string) => join(backend.stateDir(name), 'injections.json');

async function readInjections(backend: Backend, name: string) {
  const raw = await readFile(injectionsFile(backend, name), 'utf8').catch(() => '[]');
  return Injections.parse(tryParseJson(raw) ?? []);
}

export async function scenariosCommand(flags: { json?: boolean }): Promise<number> {
  if (flags.json) {
    const out = scenarios.map((s) => ({ id: s.id, title: s.title, incident: s.incident, symptom: s.symptom.description, detects: s.detects, runbooks: Object.fromEntries(Object.entries(s.runbooks).map(([k, r]) => [k, { description: r.description, ...(r.incidentSays ? { incidentSays: r.incidentSays } : {}) }])) }));
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    return ExitCode.ok;
  }
  process.stdout.write(`${table(['SCENARIO', 'TITLE', 'DETECTED AS', 'RUNBOOKS'], scenarios.map((s) => [s.id, s.title, s.detects.join(', '), Object.keys(s.runbooks).join(', ')]))}\n\n`);
  for (const s of scenarios) {
    const runbooks = Object.entries(s.runbooks).map(([k, r]) => `  runbook ${k}: ${r.description}${r.incidentSays ? ` (the incident says: ${r.incidentSays})` : ''}`);
    process.stdout.write(`${s.id}: ${s.incident}\n  symptom: ${s.symptom.description}\n${runbooks.join('\n')}\n\n`);
  }
  return ExitCode.ok;
}

export async function injectCommand(id: string, flags: { backend: string; name: string; node?: string }): Promise<number> {
  const scenario = scenarioById(id);
  if (!scenario) throw usageError(`unknown scenario "${id}"`, `scenarios: ${scenarios.map((s) => s.id).join(', ')}`);
  const backend = backendNamed(flags.backend);
  const cluster = await backend.get(flags.name);
  const kube = await connect(cluster.kubeconfig);
  const nodes = cluster.nodes;
  const target = flags.node ?? scenario.defaultTarget(nodes);
  if (!nodes.some((n) => n.name === target)) throw usageError(`no node ${target} in ${backend.name} cluster ${cluster.name}`, `nodes: ${nodes.map((n) => n.name).join(', ')}`);
  const ctx: ScenarioContext = { kube, access: cluster.access, nodes, target, memo: {} };
  const steps = await scenario.inject(ctx);
  const results = await applySteps(steps, kube, cluster.access);
  const injections = await readInjections(backend, cluster.name);
  injections.push({ scenario: scenario.id, target, memo: ctx.memo, at: new Date().toISOString() });
  await writeFile(injectionsFile(backend, cluster.name), `${JSON.stringify(injections, null, 2)}\n`);
  process.stdout.write(`injected ${scenario.id} on ${target}:\n${formatResults(results)}\nexpect: ${scenario.symptom.description}\nundo with: firedrill restore --backend ${backend.name} --name ${cluster.name}\n`);
  if (results.some((r) => !r.ok)) throw failure(`injection of ${scenario.id} did not complete`, 'run `firedrill restore` to undo what was applied');
  return ExitCode.ok;
}

export async function restoreCommand(flags: { backend: string; name: string }): Promise<number> {
  const backend = backendNamed(flags.backend);
  const cluster = await backend.get(flags.name);
  const kube = await connect(cluster.kubeconfig);
  const injections = await readInjections(backend, cluster.name);
  if (!injections.length) process.stdout.write('nothing injected by firedrill inject\n');
  for (const inj of injections.reverse()) {
    const scenario = scenarioById(inj.scenario)!;
    const ctx: ScenarioContext = { kube, access: cluster.access, nodes: cluster.nodes, target: inj.target, memo: inj.memo };
    const steps = await scenario.restore(ctx);
    process.stdout.write(`restoring ${inj.scenario} on ${inj.target}:\n${steps.length ? formatResults(await applySteps(steps, kube, cluster.access)) : '  (nothing to undo by hand)'}\n`);
  }
  await rm(injectionsFile(backend, cluster.name), { force: true });
  // What no scenario can undo by hand (a deleted cni0), the library repairs.
  const outcome = await repairCluster(kube, cluster.access);
  for (const round of outcome.rounds) for (const r of round.results) process.stdout.write(`library repair ${r.plan.repair}:\n${formatResults(r.steps)}\n`);
  const critical = outcome.remaining.filter((f) => f.severity === 'critical');
  process.stdout.write(critical.length ? `still found: ${critical.map((f) => f.kind).join(', ')}\n` : 'steady state: no findings\n');
  return critical.length ? ExitCode.failure : ExitCode.ok;
}
