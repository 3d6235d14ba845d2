import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { repairCluster } from '../../src/doctor.js';
import { connect } from '../../src/kube/client.js';
import { tryParseJson } from '../../src/json.js';
import { applySteps } from '../../src/repairs/apply.js';
import { scenarios } from '../../scenarios/index.js';
import { type ScenarioContext } from '../../scenarios/scenario.js';
import { type Backend } from '../backends/backend.js';
import { ExitCode, failure, usageError } from '../errors.js';
import { reloadScenarioFile } from '../scenario-files/load.js';
import { formatResults } from '../report/findings.js';
import { table } from '../report/table.js';
import { type ClusterFlags, clusterArgs, withRunningCluster } from './cluster-flags.js';
import { scenarioNamed } from './runbook-command.js';
import { chooseScenario } from './scenario-choice.js';

// A scenario file's injection records the file: restore loads it again, if it is unchanged.
const Injections = z.array(
  z.object({ scenario: z.string(), file: z.object({ path: z.string(), sha256: z.string() }).optional(), target: z.string(), memo: z.record(z.string(), z.unknown()), at: z.string() }),
);
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

export async function injectCommand(id: string | undefined, flags: ClusterFlags & { node?: string; scenarioFile?: string }): Promise<number> {
  const { scenario, source } = await chooseScenario({ command: 'inject', named: 'SCENARIO', id, file: flags.scenarioFile }, (l) => process.stderr.write(`${l}\n`));
  return withRunningCluster(flags, async (cluster, backend) => {
    const kube = await connect(cluster.kubeconfig);
    const nodes = cluster.nodes;
    const target = flags.node ?? scenario.defaultTarget(nodes);
    if (!nodes.some((n) => n.name === target)) throw usageError(`no node ${target} in ${backend.name} cluster ${cluster.name}`, `nodes: ${nodes.map((n) => n.name).join(', ')}`);
    const ctx: ScenarioContext = { kube, access: cluster.access, nodes, target, memo: {} };
    const steps = await scenario.inject(ctx);
    const results = await applySteps(steps, kube, cluster.access);
    const injections = await readInjections(backend, cluster.name);
    injections.push({ scenario: scenario.id, ...(source ? { file: source } : {}), target, memo: ctx.memo, at: new Date().toISOString() });
    await writeFile(injectionsFile(backend, cluster.name), `${JSON.stringify(injections, null, 2)}\n`);
    process.stdout.write(`injected ${scenario.id} on ${target}:\n${formatResults(results)}\nexpect: ${scenario.symptom.description}\nundo with: firedrill restore ${clusterArgs(flags)}\n`);
    if (results.some((r) => !r.ok)) throw failure(`injection of ${scenario.id} did not complete`, 'run `firedrill restore` to undo what was applied');
    return ExitCode.ok;
  });
}

export async function restoreCommand(flags: ClusterFlags): Promise<number> {
  return withRunningCluster(flags, async (cluster, backend) => {
    const kube = await connect(cluster.kubeconfig);
    const injections = await readInjections(backend, cluster.name);
    if (!injections.length) process.stdout.write('nothing injected by firedrill inject\n');
    // Every scenario first: nothing is undone unless all of it can be.
    const hint = `put the file back as it was when injected and run restore again; or repair with firedrill doctor --repair ${clusterArgs(flags)} and remove the record of the injections, ${injectionsFile(backend, cluster.name)}`;
    const restoring = await Promise.all(injections.reverse().map(async (inj) => ({ inj, scenario: inj.file ? await reloadScenarioFile(inj.file, hint) : scenarioNamed(inj.scenario) })));
    for (const { inj, scenario } of restoring) {
      const ctx: ScenarioContext = { kube, access: cluster.access, nodes: cluster.nodes, target: inj.target, memo: inj.memo };
      const steps = await scenario.restore(ctx);
      process.stdout.write(`restoring ${inj.scenario}${inj.file ? ` (${inj.file.path})` : ''} on ${inj.target}:\n${steps.length ? formatResults(await applySteps(steps, kube, cluster.access)) : '  (nothing to undo by hand)'}\n`);
    }
    await rm(injectionsFile(backend, cluster.name), { force: true });
    // What no scenario can undo by hand (a deleted cni0), the library repairs.
    const outcome = await repairCluster(kube, cluster.access);
    for (const round of outcome.rounds) for (const r of round.results) process.stdout.write(`library repair ${r.plan.repair}:\n${formatResults(r.steps)}\n`);
    const critical = outcome.remaining.filter((f) => f.severity === 'critical');
    process.stdout.write(critical.length ? `still found: ${critical.map((f) => f.kind).join(', ')}\n` : 'steady state: no findings\n');
    return critical.length ? ExitCode.failure : ExitCode.ok;
  });
}
