import { access, appendFile, writeFile } from 'node:fs/promises';
import { connect } from '../../src/kube/client.js';
import { scenarios } from '../../scenarios/index.js';
import { type Scenario } from '../../scenarios/scenario.js';
import { splitArgs } from '../../src/argv.js';
import { type Backend, type Cluster } from '../backends/backend.js';
import { MAX_NODES, validateCount } from '../backends/lab/layout.js';
import { type ClusterFlags, chooseClusters, clusterArgs } from './cluster-flags.js';
import { chooseScenarios } from './scenario-choice.js';
import { ExitCode, usageError } from '../errors.js';
import { interruptExitCode, interruptible } from '../interrupt.js';
import { type JournalCluster } from '../report/journal.js';
import { formatMarkdown } from '../report/markdown.js';
import { writeReports } from '../report/write-reports.js';
import { runJournal } from '../report/run-journal.js';
import { formatFidelity, formatStats, formatSummary } from '../report/summary.js';
import { type DrillJournal, type Repairer, runDrill } from '../runner/drill.js';
import { loadRunbookFile } from '../runner/runbook-file.js';
import { duration } from '../setup/setup.js';
import { sayProgress } from '../progress.js';
import { closest } from '../suggest.js';

const exists = (path: string) => access(path).then(() => true, () => false);

export interface RunFlags extends ClusterFlags {
  /** A scenario file to drill (besides the scenarios named, if any). */
  scenarioFile?: string;
  nodes?: string;
  repair?: string;
  runbook?: string;
  repeat: string;
  target?: string;
  json?: boolean;
  keep?: boolean;
  journal?: string;
  report?: string;
}

const say = sayProgress;

export async function runCommand(ids: string[], flags: RunFlags): Promise<number> {
  const { backends, name } = chooseClusters(flags);
  const selected = await chooseScenarios(ids, flags.scenarioFile, say);
  const repeat = validateCount('--repeat', flags.repeat, 1, 100);
  const repairer = await parseRepairer(flags, selected);
  // Drills break traffic between nodes: a cluster needs at least two.
  const nodes = validateCount('--nodes', flags.nodes ?? '3', 2, MAX_NODES);
  const started = performance.now();
  const startedAt = new Date();
  const journals: DrillJournal[] = [];
  const clusters: JournalCluster[] = [];
  for (const backend of backends) journals.push(...(await drillOn(backend, { selected, repeat, repairer, name, nodes, flags, clusters })));
  const run = runJournal({ argv: process.argv.slice(2), repeat, clusters, startedAt, endedAt: new Date(), drills: journals });
  const text = JSON.stringify(run, null, 2);
  if (flags.journal) await writeFile(flags.journal, `${text}\n`);
  const written = flags.report ? await writeReports(run, flags.report, { journal: true, junit: true, allure: true, timeline: true }) : [];
  if (process.env.GITHUB_STEP_SUMMARY) await appendFile(process.env.GITHUB_STEP_SUMMARY, formatMarkdown(run, written));
  if (flags.json) process.stdout.write(`${text}\n`);
  else {
    const fidelity = backends.length > 1 ? `\n\n${formatFidelity(journals)}` : '';
    const stats = formatStats(run.scenarios, journals);
    const reports = written.length ? `\nreports: ${written.join(', ')}` : '';
    process.stdout.write(`${formatSummary(journals)}${stats ? `\n\n${stats}` : ''}${fidelity}\n(total ${duration((performance.now() - started) / 1000)})${reports}\n`);
  }
  const expected = selected.length * repeat * backends.length;
  return journals.length === expected && journals.every((j) => j.verdict === 'recovered') ? ExitCode.ok : ExitCode.failure;
}

interface DrillPlan {
  selected: Scenario[];
  repeat: number;
  repairer: Repairer;
  name: string;
  nodes: number;
  flags: RunFlags;
  /** Each cluster drilled, as the journal records it. */
  clusters: JournalCluster[];
}

/** The drills on one backend: its cluster of that name if it runs (and is left), else a new one removed afterwards unless --keep. */
async function drillOn(backend: Backend, { selected, repeat, repairer, name, nodes, flags, clusters }: DrillPlan): Promise<DrillJournal[]> {
  const sayBackend = (l: string) => say(`${backend.name}: ${l}`);
  let created = false;
  let cluster: Cluster;
  if ((await backend.list()).includes(name)) {
    say(`using the running ${backend.name} cluster ${name}${flags.nodes ? ` (--nodes ${flags.nodes} applies only to a cluster the run creates)` : ''}`);
    cluster = await backend.get(name);
  } else {
    say(`creating ${backend.name} cluster ${name}`);
    cluster = await backend.up({ name, nodes, podsPerNode: 2, say: sayBackend });
    created = true;
  }
  clusters.push({ backend: cluster.backend, name: cluster.name, nodes: cluster.nodes.map((n) => ({ name: n.name, role: n.role, ip: n.ip })) });
  const journals: DrillJournal[] = [];
  const problem = checkNodes(cluster, flags.target, repairer);
  const release = async () => {
    await cluster.release?.();
    if (created && !flags.keep) await backend.down(name, sayBackend);
    else if (created) say(`${backend.name} cluster ${name} kept (--keep): firedrill ${backend.name} down --name ${name} removes it`);
  };
  // Ctrl-C between or during drills: a cluster this run made is removed; in one it did not make,
  // a fault may still be in place, and doctor --repair clears it.
  if (problem) {
    await release();
    throw problem;
  }
  await interruptible(
    async (signal) => {
      const kube = await connect(cluster.kubeconfig);
      const started = performance.now();
      const total = repeat * selected.length;
      drills: for (let i = 0; i < repeat; i++) {
        for (const scenario of selected) {
          signal.throwIfAborted();
          if (total > 1) say(`[${journals.length + 1}/${total}${journals.length ? `, ${duration((performance.now() - started) / 1000)} elapsed` : ''}]`);
          const journal = await runDrill({ scenario, cluster, kube, repairer, repeat: i + 1, ...(flags.target ? { target: flags.target } : {}), say, signal });
          journals.push(journal);
          if (journal.steps.some((s) => s.name === 'restore' && !s.ok)) {
            say('the cluster did not return to steady state: stopping here');
            break drills;
          }
        }
      }
      await release();
    },
    async () => {
      if (!created && interruptExitCode()) say(`interrupted: if a fault is still injected in ${backend.name} cluster ${name}, \`firedrill doctor --repair ${clusterArgs(flags, backend.name, name)}\` clears it`);
      await release();
    },
  );
  return journals;
}

/** --repair library|none|exec:CMD, or --runbook auto|manual|naive|flannel-restart|FILE (a runbook name must exist for every selected scenario). */
async function parseRepairer(flags: RunFlags, selected: Scenario[]): Promise<Repairer> {
  if (flags.repair && flags.runbook) throw usageError('--repair and --runbook choose the same thing: give one of them');
  const choice = flags.runbook ?? flags.repair ?? 'library';
  if (choice === 'library' || choice === 'auto') return { kind: 'library' };
  if (choice === 'none') return { kind: 'none' };
  if (choice.startsWith('exec:')) {
    const argv = splitArgs(choice.slice(5).trim());
    if (!argv.length) throw usageError('--repair exec: needs a command, e.g. --repair "exec:./my-remediation.sh --node"');
    return { kind: 'exec', argv };
  }
  const named = new Set(scenarios.flatMap((s) => Object.keys(s.runbooks)));
  if (named.has(choice)) {
    const without = selected.find((s) => !s.runbooks[choice]);
    if (without) {
      const has = Object.keys(without.runbooks);
      throw usageError(`scenario ${without.id} has no runbook "${choice}" (${has.length ? `it has: ${has.join(', ')}` : 'it has none of its own'})`, 'select scenarios that have it, e.g. firedrill run wrong-vtep-mac --runbook naive, or give a runbook file: --runbook FILE');
    }
    return { kind: 'runbook', name: choice };
  }
  if (flags.runbook) {
    const meant = closest(flags.runbook, ['auto', ...named]);
    if (meant && !(await exists(flags.runbook))) throw usageError(`unknown runbook "${flags.runbook}" (no runbook of that name, no file of that path)`, `did you mean --runbook ${meant}?`);
    return { kind: 'runbook', name: flags.runbook, runbook: await loadRunbookFile(flags.runbook) };
  }
  const meant = closest(choice, ['library', 'none']);
  throw usageError(`unknown repairer "${choice}"`, `${meant ? `did you mean --repair ${meant}? ` : ''}--repair takes library, none or exec:COMMAND; --runbook takes auto, ${[...named].join(', ')} or a YAML runbook file`);
}

/** --target and the nodes a runbook file names must be nodes of this cluster. */
function checkNodes(cluster: Cluster, target: string | undefined, repairer: Repairer) {
  const names = cluster.nodes.map((n) => n.name);
  const named = [...(target ? [target] : []), ...(repairer.kind === 'runbook' && repairer.runbook ? repairer.runbook.nodes ?? [] : [])];
  const unknown = named.filter((n) => !names.includes(n));
  return unknown.length ? usageError(`no node ${unknown.join(', ')} in ${cluster.backend} cluster ${cluster.name}`, `nodes: ${names.join(', ')} (a runbook file can also write {{target}} for the faulted node)`) : undefined;
}
