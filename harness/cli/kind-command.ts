import { kindBackend } from '../backends/kind/backend.js';
import { listKindStates } from '../backends/kind/state.js';
import { MAX_NODES, MAX_PODS_PER_NODE, validateCount, validateLabName } from '../backends/lab/layout.js';
import { ExitCode } from '../errors.js';
import { sayProgress } from '../progress.js';
import { table } from '../report/table.js';
import { duration } from '../setup/setup.js';

const say = (line: string) => sayProgress(`kind: ${line}`);

export interface KindUpFlags {
  name: string;
  nodes: string;
  podsPerNode: string;
  timeout: string;
  keepOnFailure?: boolean;
  pull?: boolean;
}

export async function kindUpCommand(flags: KindUpFlags): Promise<number> {
  const name = validateLabName(flags.name);
  const nodes = validateCount('--nodes', flags.nodes, 1, MAX_NODES);
  const podsPerNode = validateCount('--pods-per-node', flags.podsPerNode, 1, MAX_PODS_PER_NODE);
  const timeoutSeconds = validateCount('--timeout', flags.timeout, 5, 3600);
  const started = performance.now();
  const cluster = await kindBackend({ stepTimeoutMs: timeoutSeconds * 1000, ...(flags.keepOnFailure ? { keepOnFailure: true } : {}), ...(flags.pull ? { pull: true } : {}) }).up({ name, nodes, podsPerNode, say });
  process.stdout.write(
    `kind cluster ${cluster.name} is up in ${duration((performance.now() - started) / 1000)}: ${cluster.nodes.length} nodes (${cluster.nodes.map((n) => n.name).join(', ')})\n` +
      `kubeconfig: ${cluster.kubeconfig}\n` +
      `try: kubectl --kubeconfig ${cluster.kubeconfig} get nodes,pods -A -o wide\n`,
  );
  return ExitCode.ok;
}

export async function kindDownCommand(flags: { name: string }): Promise<number> {
  const started = performance.now();
  await kindBackend().down(validateLabName(flags.name), say);
  say(`done in ${duration((performance.now() - started) / 1000)}`);
  return ExitCode.ok;
}

export async function kindListCommand(flags: { json?: boolean }): Promise<number> {
  const states = await listKindStates();
  if (flags.json) process.stdout.write(`${JSON.stringify(states, null, 2)}\n`);
  else if (!states.length) process.stdout.write('no kind clusters made by firedrill\n');
  else process.stdout.write(`${table(['NAME', 'KIND CLUSTER', 'STATUS', 'NODES', 'NETWORK', 'CREATED'], states.map((s) => [s.name, s.clusterName, s.status, String(s.nodes.length), `${s.network} ${s.subnet}`, s.createdAt]))}\n`);
  return ExitCode.ok;
}

export async function kindExportLogsCommand(flags: { name: string; out: string }): Promise<number> {
  await kindBackend().exportLogs(validateLabName(flags.name), flags.out);
  say(`logs of kind cluster ${flags.name} in ${flags.out}`);
  return ExitCode.ok;
}
