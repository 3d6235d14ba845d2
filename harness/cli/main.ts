#!/usr/bin/env node
// Entry point. Keep imports here light: `firedrill --version` and `--help` must answer
// in well under 0.2 s, so every command loads its implementation only when it runs.
import * as nodeModule from 'node:module';
import { Command, CommanderError, Option } from 'commander';
import { ExitCode, FiredrillError } from '../errors.js';
import { installInterruptHandlers, interruptExitCode, stopEverything } from '../interrupt.js';
import { packageInfo } from '../package-info.js';

if (Number(process.versions.node.split('.')[0]) < 22) {
  process.stderr.write(`firedrill: error: Node ${process.versions.node} is too old; firedrill needs Node >= 22\n  what to do: run ./ci/setup (installs Node 24), or install Node 24 LTS\n`);
  process.exit(3);
}
nodeModule.enableCompileCache?.();
// `firedrill … | head` closes the pipe early: not an error when nothing is running; a running
// operation is stopped and cleaned up as on Ctrl-C (exit 141, as for SIGPIPE).
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => (e.code === 'EPIPE' ? stopEverything('output closed (EPIPE)', 141, ExitCode.ok) : process.exit(ExitCode.failure)));
}

/** An action that loads its command's module only when it runs; the command returns the exit code. */
function lazy<A extends unknown[]>(load: () => Promise<(...args: A) => Promise<number>>) {
  return async (...args: A) => {
    process.exitCode = await (await load())(...args);
  };
}

const program = new Command('firedrill')
  .description('Fire drills for Kubernetes pod networking: inject real flannel (vxlan) incidents, detect, repair, time the recovery.')
  .version(packageInfo().version, '-V, --version')
  .showSuggestionAfterError(true)
  .showHelpAfterError('(run `firedrill --help` for the commands, `firedrill <command> --help` for their options)')
  .exitOverride()
  .addHelpText(
    'after',
    `
Exit codes: 0 ok, 1 a drill or check failed, 2 usage error, 3 something the machine must provide is missing (root, a component, a tool).`,
  );

program
  .command('setup')
  .description('build or download the pinned components into the cache: Kubernetes, etcd, flannel, the CNI plugins, CoreDNS, kind and crictl')
  .option('--check', 'only report each component, version, source and path; exit 1 if one is missing')
  .addOption(new Option('--from <source>', 'where binaries come from: auto (build with Go, else download), build, download').default('auto'))
  .option('--cache-dir <dir>', 'cache root (default $FIREDRILL_CACHE, else ~/.cache/firedrill)')
  .option('--only <component...>', 'only these components (names as in `setup --check`)')
  .option('--json', 'print the result as JSON')
  .action(lazy(async () => (await import('./setup-command.js')).setupCommand));

installInterruptHandlers();
const lab = program.command('lab').description('the lab backend: a kind-shaped cluster whose nodes are network namespaces on this host (needs root)');
lab
  .command('up')
  .description('create a lab and wait until its probe matrix and DNS are green')
  .option('--name <name>', 'lab name (prefixes every namespace it creates)', 'fd')
  .option('--nodes <n>', 'number of nodes: a control plane and n-1 workers', '3')
  .option('--pods-per-node <n>', 'probe pods per node', '2')
  .option('--dns-replicas <n>', 'CoreDNS replicas', '2')
  .option('--timeout <seconds>', 'timeout of each readiness step', '90')
  .option('--keep-on-failure', 'leave a lab that failed to come up in place for inspection')
  .option('--cache-dir <dir>', 'component cache root (see `firedrill setup`)')
  .action(lazy(async () => (await import('./lab-command.js')).labUpCommand));
lab
  .command('down')
  .description('remove a lab: its processes, namespaces and state (idempotent)')
  .option('--name <name>', 'lab name', 'fd')
  .action(lazy(async () => (await import('./lab-command.js')).labDownCommand));

lab
  .command('status')
  .description('nodes, pods, DNS endpoints, kubeconfig, component pids and versions of a lab')
  .option('--name <name>', 'lab name', 'fd')
  .option('--json', 'print JSON (a documented, stable shape)')
  .action(lazy(async () => (await import('./lab-command.js')).labStatusCommand));
lab
  .command('list')
  .description('the labs on this machine')
  .option('--json', 'print JSON')
  .action(lazy(async () => (await import('./lab-command.js')).labListCommand));
lab
  .command('logs [component]')
  .description("a component's log (etcd, kube-apiserver, flanneld, kube-proxy, lab-kubelet, …); without one, the list")
  .option('--name <name>', 'lab name', 'fd')
  .option('--node <node>', 'only this node (for per-node components)')
  .option('--lines <n>', 'last lines to print', '100')
  .action(lazy(async () => (await import('./lab-command.js')).labLogsCommand));

const kind = program.command('kind').description('the kind backend: real kind clusters with the upstream flannel manifest, in Docker, from images built here');
kind
  .command('up')
  .description('create a kind cluster (firedrill-<name>) with flannel and wait until its probe matrix and DNS are green')
  .option('--name <name>', 'cluster name (the kind cluster is firedrill-<name>)', 'fd')
  .option('--nodes <n>', 'number of nodes: a control plane and n-1 workers', '3')
  .option('--pods-per-node <n>', 'probe pods per node', '2')
  .option('--timeout <seconds>', 'timeout of each readiness step', '180')
  .option('--keep-on-failure', 'leave a cluster that failed to come up in place for inspection')
  .option('--pull', "kind's own node image, pulled by the manifest's digest, instead of the one built here (needs a registry)")
  .action(lazy(async () => (await import('./kind-command.js')).kindUpCommand));
kind
  .command('down')
  .description('delete a kind cluster firedrill made, its docker network and the host rules it labelled (idempotent)')
  .option('--name <name>', 'cluster name', 'fd')
  .action(lazy(async () => (await import('./kind-command.js')).kindDownCommand));
kind
  .command('export-logs')
  .description("`kind export logs` of a cluster firedrill made: every node's journal, containerd, kubelet and pod logs")
  .option('--name <name>', 'cluster name', 'fd')
  .requiredOption('--out <dir>', 'directory to write the logs to')
  .action(lazy(async () => (await import('./kind-command.js')).kindExportLogsCommand));
kind
  .command('list')
  .description('the kind clusters firedrill made on this machine')
  .option('--json', 'print JSON')
  .action(lazy(async () => (await import('./kind-command.js')).kindListCommand));

program
  .command('image')
  .description('the kind backend\'s images, built offline from the pinned components')
  .command('build')
  .description('build (or reuse) the kind node image and every image inside it: control plane, flannel, probe')
  .option('--force', 'rebuild every image, the Debian root file systems included')
  .option('--pull', "where a registry is reachable: pull kind's own node image by the manifest's digest instead of building one (only the probe image is built)")
  .option('--cache-dir <dir>', 'component cache root (see `firedrill setup`)')
  .option('--json', 'print the result as JSON')
  .action(lazy(async () => (await import('./image-command.js')).imageBuildCommand));

program
  .command('probe')
  .description("run the all-pairs ping matrix and DNS lookups from every probe pod of a cluster; exit 1 unless all green")
  .option('--backend <backend>', 'cluster backend: lab or kind', 'lab')
  .option('--name <name>', 'cluster name: a lab, or a kind cluster firedrill made', 'fd')
  .option('--json', 'print every result as JSON')
  .action(lazy(async () => (await import('./lab-command.js')).probeCommand));

program
  .command('run [scenario...]')
  .description('drill incidents: steady state, inject, confirm the symptom, detect, repair, verify, restore; timed and journaled')
  .option('--backend <backend>', 'cluster backend: lab (network namespaces, fast), kind (real kind clusters in Docker), or lab,kind (both, verdicts side by side)', 'lab')
  .option('--name <name>', 'cluster to use (created, and removed afterwards unless --keep, if it does not exist)', 'fd')
  .option('--nodes <n>', 'nodes of a cluster the run creates (default 3, up to 50)')
  .option('--repair <who>', 'who repairs: library (default), none (only watch and time a recovery), exec:COMMAND (your own remediation)')
  .option('--runbook <runbook>', 'repair with a runbook instead: auto (the library), manual, naive, flannel-restart, or a runbook file (YAML or JSON, see `firedrill runbook`)')
  .option('--scenario-file <file>', 'drill your own scenario, a YAML file (see `firedrill scenarios show`); with scenario names, those too')
  .option('--target <node>', 'inject on this node instead of the scenario default')
  .option('--repeat <n>', 'run every scenario n times', '1')
  .option('--journal <file>', 'write the run journal (JSON, schema/journal.schema.json) to this file')
  .option('--report <dir>', 'write journal.json, junit.xml, allure-results/ and timeline.svg into this directory')
  .option('--json', 'print the journal instead of the summary table')
  .option('--keep', 'keep a cluster the run created')
  .option('--pull', "kind: pull kind's own node image by the manifest's digest instead of building one (needs a registry)")
  .action(lazy(async () => (await import('./run-command.js')).runCommand));

program
  .command('report [journal]')
  .description('regenerate the reports of a run from its saved journal alone (all of them unless some are chosen)')
  .option('--out <dir>', "where to write them (default: the journal's directory)")
  .option('--junit', 'junit.xml: a testsuite per backend and repairer, a testcase per drill')
  .option('--allure', 'allure-results/: Allure results, a test per drill with its phases, probes and findings')
  .option('--html', 'allure-report/: the Allure HTML report (built offline with Allure 3; open its index.html)')
  .option('--timeline', 'timeline.svg: one lane per drill, its moments and MTTD/MTTR')
  .option('--schema', "print the journal's JSON Schema instead")
  .action(lazy(async () => (await import('./report-command.js')).reportCommand));

program
  .command('scenarios')
  .description('the incidents firedrill can drill, with their runbooks')
  .option('--json', 'print JSON')
  .action(lazy(async () => (await import('./inject-command.js')).scenariosCommand));
program.commands
  .find((c) => c.name() === 'scenarios')!
  .command('show <scenario>')
  .description('print a built-in scenario as a scenario file (YAML, see `run --scenario-file`), saying what a file cannot express')
  .action(lazy(async () => (await import('./scenario-command.js')).scenariosShowCommand));

const runbook = program.command('runbook').description("runbook files (YAML): print a built-in one to start from, check one without a cluster");
runbook
  .command('show <scenario>')
  .description("print a scenario's built-in runbook as YAML, variables ({{node}}, {{vtep_mac}}…) in place of the cluster's values")
  .option('--variant <variant>', 'which runbook: manual, naive, flannel-restart (see `firedrill scenarios`)', 'manual')
  .action(lazy(async () => (await import('./runbook-command.js')).runbookShowCommand));
runbook
  .command('lint <file>')
  .description('check a runbook file without a cluster: syntax (line and column), fields, variables, steps aimed at the host; shell strings are warned about')
  .action(lazy(async () => (await import('./runbook-command.js')).runbookLintCommand));

program
  .command('validate <runbook>')
  .description("validate a runbook file against an incident: baseline, inject, run the runbook step by step, then judge recovery and collateral damage (exit 0 only when recovered with none)")
  .option('--scenario <scenario>', 'the incident to validate against (see `firedrill scenarios`)')
  .option('--scenario-file <file>', 'validate against your own scenario, a YAML file (see `run --scenario-file`), instead of --scenario')
  .option('--backend <backend>', 'cluster backend: lab or kind', 'lab')
  .option('--name <name>', 'cluster to use (created, and removed afterwards unless --keep, if it does not exist)', 'fd')
  .option('--target <node>', 'inject on this node instead of the scenario default')
  .option('--dry-run', 'resolve variables and selectors against the cluster and print the exact argv and API calls per node, without running them')
  .option('--repeat <n>', 'validate n times on the same cluster: pass count, time to recovery p50/p95/max, flaky or not', '1')
  .option('--journal <file>', 'write the validation (every step with its output, exit code and duration) as JSON to this file')
  .option('--json', 'print the validation as JSON')
  .option('--keep', 'keep a cluster the command created')
  .action(lazy(async () => (await import('./validate-command.js')).validateCommand));

program
  .command('inject [scenario]')
  .description('inject one incident into a running cluster by hand, to reproduce it; `firedrill restore` undoes it')
  .option('--backend <backend>', 'cluster backend: lab or kind', 'lab')
  .option('--name <name>', 'cluster name: a lab, or a kind cluster firedrill made', 'fd')
  .option('--node <node>', 'inject on this node instead of the scenario default')
  .option('--scenario-file <file>', 'inject your own scenario, a YAML file (see `run --scenario-file`), instead of a named one; restore loads it again and refuses if it changed')
  .action(lazy(async () => (await import('./inject-command.js')).injectCommand));

program
  .command('restore')
  .description('undo what `firedrill inject` did, newest first, and wait for steady state')
  .option('--backend <backend>', 'cluster backend: lab or kind', 'lab')
  .option('--name <name>', 'cluster name: a lab, or a kind cluster firedrill made', 'fd')
  .action(lazy(async () => (await import('./inject-command.js')).restoreCommand));

program
  .command('doctor')
  .description('find what is wrong with pod networking (probes, then node and cluster state); with --repair, plan, apply and verify the fixes')
  .option('--backend <backend>', 'cluster backend: lab or kind', 'lab')
  .option('--name <name>', 'cluster name: a lab, or a kind cluster firedrill made', 'fd')
  .option('--repair', 'repair every finding the library can, then verify')
  .option('--no-probe', 'read node and cluster state only, skip the ping matrix and DNS lookups')
  .addOption(new Option('--matrix <matrix>', 'which ping matrix: sampled (one pod per node pings every other node, fast) or full (every pod pair)').choices(['sampled', 'full']).default('sampled'))
  .option('--json', 'print findings (and repairs) as JSON')
  .action(lazy(async () => (await import('./doctor-command.js')).doctorCommand));

program
  .command('fuzz')
  .description('random faults on a lab (1..K mutations of the state the library models): inject, confirm a symptom, diagnose and repair with the library, verify; a table per operator, failing draws shrunk to a replay command')
  .option('--seed <n>', 'random seed (default: from the clock, printed)')
  .option('--draws <n>', 'number of random draws', '20')
  .option('--faults <k>', 'at most this many mutations per draw', '2')
  .option('--name <name>', 'lab to fuzz (created, and removed afterwards unless --keep, if it does not exist)', 'fz')
  .option('--nodes <n>', 'nodes of a lab the run creates', '3')
  .option('--replay <draw>', "run this one draw, as fuzz printed it: 'op@node#pick,…'")
  .option('--operators <op...>', 'draw only from these operators')
  .option('--no-shrink', 'do not shrink failing draws')
  .option('--keep', 'keep a lab the run created')
  .option('--json', 'print the results as JSON')
  .action(lazy(async () => (await import('./fuzz-command.js')).fuzzCommand));

program
  .command('prune')
  .description('remove everything firedrill made on this machine, including what crashed runs left: labs (namespaces, processes, state), kind clusters, docker networks and host rules')
  .action(lazy(async () => (await import('./lab-command.js')).pruneCommand));

// A kind cluster firedrill did not create, for the commands that act on a running cluster.
for (const name of ['run', 'validate', 'inject', 'restore', 'doctor', 'probe']) {
  program.commands
    .find((c) => c.name() === name)!
    .option('--context <context>', 'act on a kind cluster firedrill did not create, by its kubeconfig context (kind-<cluster>); needs --confirm-context')
    .option('--confirm-context <context>', "repeat --context: drills, injections and repairs change that cluster's nodes for real")
    .option('--kubeconfig <file>', 'the kubeconfig holding --context (default: $KUBECONFIG, else ~/.kube/config)');
}

try {
  await program.parseAsync();
} catch (e) {
  process.exitCode = report(e);
}
// Exit now (idle keep-alive sockets to a lab's API server would otherwise hold the process
// open), but only once stdout and stderr are flushed: a pipe takes large output asynchronously.
await Promise.all([process.stdout, process.stderr].map((stream) => new Promise((resolve) => stream.write('', resolve))));
process.exit(interruptExitCode() ?? process.exitCode ?? ExitCode.ok);

function report(e: unknown): number {
  // Interrupted: the cleanup message was printed by the signal handler.
  const interrupted = interruptExitCode();
  if (interrupted) return interrupted;
  if (e instanceof CommanderError) {
    // commander has already printed its message; --help and --version end here too.
    return e.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
  }
  if (e instanceof FiredrillError) {
    process.stderr.write(`firedrill: error: ${e.message}\n`);
    if (e.hint) process.stderr.write(`  what to do: ${e.hint}\n`);
    return e.exitCode;
  }
  process.stderr.write(`firedrill: unexpected error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  return ExitCode.failure;
}
