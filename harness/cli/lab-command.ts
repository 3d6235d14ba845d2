import { ExitCode } from '../errors.js';
import { labDown, prune } from '../backends/lab/lab-down.js';
import { labUp } from '../backends/lab/lab-up.js';
import { MAX_NODES, MAX_PODS_PER_NODE, validateCount, validateLabName } from '../backends/lab/layout.js';
import { requireRoot } from '../preflight.js';
import { defaultCacheRoot } from '../setup/cache.js';
import { duration } from '../setup/setup.js';

const say = (line: string) => process.stderr.write(`lab: ${line}\n`);

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
  return ExitCode.ok;
}
