import { readFile } from 'node:fs/promises';
import { lastLines } from '../../src/exec.js';
import { connect } from '../../src/kube/client.js';
import { probeCluster } from '../../src/probes/probe.js';
import { isGreen } from '../../src/probes/types.js';
import { labStatus } from '../backends/lab/status.js';
import { listLabDirs, readState, requireState } from '../backends/lab/state.js';
import { ExitCode, usageError } from '../errors.js';
import { formatProbeReport } from '../report/probe.js';
import { table } from '../report/table.js';
import { type ClusterFlags, withRunningCluster } from './cluster-flags.js';
import { labDown, prune } from '../backends/lab/lab-down.js';
import { labUp } from '../backends/lab/lab-up.js';
import { pruneKind } from '../backends/kind/prune.js';
import { pruneImageBuilds } from '../images/prune.js';
import { MAX_NODES, MAX_PODS_PER_NODE, validateCount, validateLabName } from '../backends/lab/layout.js';
import { requireRoot } from '../preflight.js';
import { defaultCacheRoot } from '../setup/cache.js';
import { duration } from '../setup/setup.js';
import { sayProgress } from '../progress.js';

const say = (line: string) => sayProgress(`lab: ${line}`);

export interface UpFlags {
  name: string;
  nodes: string;
  podsPerNode: string;
  dnsReplicas: string;
  cacheDir?: string;
  timeout: string;
  keepOnFailure?: boolean;
}

export async function labUpCommand(flags: UpFlags): Promise<number> {
  const name = validateLabName(flags.name);
  const nodes = validateCount('--nodes', flags.nodes, 1, MAX_NODES);
  const podsPerNode = validateCount('--pods-per-node', flags.podsPerNode, 1, MAX_PODS_PER_NODE);
  const dnsReplicas = validateCount('--dns-replicas', flags.dnsReplicas, 1, 10);
  const timeoutSeconds = validateCount('--timeout', flags.timeout, 5, 3600);
  const started = performance.now();
  const { state, timings } = await labUp({
    name,
    nodes,
    podsPerNode,
    dnsReplicas,
    cacheRoot: flags.cacheDir ?? defaultCacheRoot(),
    say,
    stepTimeoutMs: timeoutSeconds * 1000,
    keepOnFailure: flags.keepOnFailure,
  });
  say(`steps (s since start): ${Object.entries(timings).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  process.stdout.write(
    `lab ${state.name} is up in ${duration((performance.now() - started) / 1000)}: ${state.nodes.length} nodes, ${state.podsPerNode * state.nodes.length} probe pods\n` +
      `kubeconfig: ${state.kubeconfig}\n` +
      `try: kubectl --kubeconfig ${state.kubeconfig} get nodes,pods -A -o wide\n`,
  );
  return ExitCode.ok;
}

export async function labDownCommand(flags: { name: string }): Promise<number> {
  requireRoot('lab down');
  const started = performance.now();
  await labDown(validateLabName(flags.name), say);
  say(`done in ${duration((performance.now() - started) / 1000)}`);
  return ExitCode.ok;
}

export async function pruneCommand(): Promise<number> {
  requireRoot('prune');
  await prune(say);
  const sayOther = (what: string) => (line: string) => process.stderr.write(`${what}: ${line}\n`);
  await pruneKind(sayOther('kind'), defaultCacheRoot());
  await pruneImageBuilds(sayOther('image build'));
  return ExitCode.ok;
}

export async function labStatusCommand(flags: { name: string; json?: boolean }): Promise<number> {
  requireRoot('lab status');
  const state = await requireState(validateLabName(flags.name));
  const status = await labStatus(state);
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
    return ExitCode.ok;
  }
  const out: string[] = [
    `lab ${status.name}: ${status.status}, created ${status.createdAt}`,
    `kubeconfig: ${status.kubeconfig}   (kubectl --kubeconfig ${status.kubeconfig} get nodes,pods -A -o wide)`,
    `api server: ${status.apiserver.url} (host: ${status.apiserver.hostUrl ?? '-'})`,
    '',
    table(['NODE', 'ROLE', 'NETNS', 'IP', 'PODCIDR', 'VTEPMAC', 'READY'], status.nodes.map((n) => [n.name, n.role, n.netns, n.ip, n.podCIDR ?? '-', n.vtepMAC ?? '-', String(n.ready)])),
    '',
    table(['NAMESPACE', 'POD', 'NODE', 'IP', 'READY'], status.pods.map((p) => [p.namespace, p.name, p.node ?? '-', p.ip ?? '-', String(p.ready)])),
    '',
    `dns: ${status.dns.serviceIP} -> ${status.dns.endpoints.join(', ') || 'no ready endpoints'}`,
    '',
    table(['COMPONENT', 'NODE', 'PID', 'RUNNING', 'LOG'], status.components.map((c) => [c.name, c.node ?? '-', String(c.pid), String(c.running), c.log])),
    '',
    `versions: ${Object.entries(status.versions).map(([k, v]) => `${k} ${v}`).join(', ')}`,
  ];
  process.stdout.write(`${out.join('\n')}\n`);
  return ExitCode.ok;
}

export async function labListCommand(flags: { json?: boolean }): Promise<number> {
  const names = await listLabDirs();
  const labs = await Promise.all(names.map(async (n) => ({ name: n, state: await readState(n).catch(() => undefined) })));
  const rows = labs.map(({ name, state }) => ({ name, status: state?.status ?? 'unreadable', nodes: state?.nodes.length ?? 0, createdAt: state?.createdAt ?? '-', kubeconfig: state?.kubeconfig ?? '-' }));
  if (flags.json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
  else if (!rows.length) process.stdout.write('no labs (create one with `firedrill lab up`)\n');
  else process.stdout.write(`${table(['LAB', 'STATUS', 'NODES', 'CREATED', 'KUBECONFIG'], rows.map((r) => [r.name, r.status, String(r.nodes), r.createdAt, r.kubeconfig]))}\n`);
  return ExitCode.ok;
}

export async function labLogsCommand(component: string | undefined, flags: { name: string; node?: string; lines: string }): Promise<number> {
  requireRoot('lab logs');
  const state = await requireState(validateLabName(flags.name));
  const lines = validateCount('--lines', flags.lines, 1, 100_000);
  const logs = [...new Map(state.processes.map((p) => [p.log, p])).values()];
  if (!component) {
    process.stdout.write(`${table(['COMPONENT', 'NODE', 'LOG'], logs.map((p) => [p.name, p.node ?? '-', p.log]))}\n`);
    return ExitCode.ok;
  }
  const matches = logs.filter((p) => p.name === component && (!flags.node || p.node === flags.node));
  if (!matches.length) {
    const known = [...new Set(logs.map((p) => p.name))].join(', ');
    throw usageError(`lab ${state.name} has no log for ${component}${flags.node ? ` on ${flags.node}` : ''}`, `components: ${known}; nodes: ${state.nodes.map((n) => n.name).join(', ')}`);
  }
  for (const p of matches) {
    const text = await readFile(p.log, 'utf8').catch(() => '');
    if (matches.length > 1) process.stdout.write(`==> ${p.name}${p.node ? ` on ${p.node}` : ''} (${p.log}) <==\n`);
    process.stdout.write(`${lastLines(text, lines)}\n`);
  }
  return ExitCode.ok;
}

export async function probeCommand(flags: ClusterFlags & { json?: boolean }): Promise<number> {
  const report = await withRunningCluster(flags, async (cluster) => probeCluster(await connect(cluster.kubeconfig), cluster.access));
  if (flags.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else process.stdout.write(`${formatProbeReport(report)}\n`);
  return isGreen(report) ? ExitCode.ok : ExitCode.failure;
}
