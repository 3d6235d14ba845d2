import { type Executor, execAll, type NodeFiles } from '../access.js';
import { type CommandResult } from '../exec.js';
import { type Address, type FdbEntry, type Link, type Neighbour, parseAddresses, parseFdb, parseLinks, parseNeighbours, parseRoutes, parseRules, type Route, type RoutingRule } from './ip.js';
import { type IptablesTables, parseIptablesSave } from './iptables.js';

/** Everything the checks read from one node, taken in one parallel pass. */
export interface NodeObservation {
  node: string;
  links: Link[];
  addresses: Address[];
  routes: Route[];
  neighbours: Neighbour[];
  fdb: FdbEntry[];
  /** Policy routing rules (`ip rule`). */
  rules: RoutingRule[];
  /** The global sysctls below, and every interface's net.ipv4.conf.<dev>.forwarding and rp_filter. */
  sysctls: Record<string, string>;
  /** The rules of the iptables the node's programs use (`iptables` on PATH), and legacy ones if any exist. */
  iptables: { flavour: 'nf_tables' | 'legacy'; tables: IptablesTables; legacy?: IptablesTables };
  /** `nft -a list ruleset` text (with rule handles): native nftables rules that iptables-save does not show. */
  nftRuleset: string;
  /** flannel's subnet.env as key=value, or undefined when the file is missing. */
  subnetEnv?: Record<string, string>;
}

/** A node whose state could not be read: the checks must not take what is missing for what is absent. */
export class NodeUnreadError extends Error {
  constructor(
    readonly node: string,
    readonly reasons: string[],
  ) {
    super(`${node}: could not read ${reasons.join('; ')}`);
    this.name = 'NodeUnreadError';
  }
}

/** The sysctls read besides every interface's forwarding and rp_filter (net.ipv4.conf.all.rp_filter is one of those). */
const SYSCTL_FILES = ['/proc/sys/net/ipv4/ip_forward', '/proc/sys/net/bridge/bridge-nf-call-iptables'];
/** The legacy iptables tables loaded in the namespace, one name per line. */
const LEGACY_TABLE_NAMES = '/proc/net/ip_tables_names';

/**
 * One process reads every small file the checks need, each line as `path:value`: the interfaces'
 * forwarding and rp_filter, the sysctls, the loaded legacy tables, flannel's subnet.env. A missing
 * file (no br_netfilter, no subnet.env yet) is a fact, not a failure.
 */
export function fileReadArgv(files: NodeFiles): string[] {
  const paths = [...SYSCTL_FILES, LEGACY_TABLE_NAMES, files.subnetEnv];
  const names = ['forwarding', 'rp_filter', ...paths.map((p) => p.slice(p.lastIndexOf('/') + 1))];
  return ['grep', '-r', '-H', ...names.map((n) => `--include=${n}`), '', '/proc/sys/net/ipv4/conf', ...paths];
}

export interface NodeFileReads {
  sysctls: Record<string, string>;
  legacyTables: string[];
  subnetEnv?: Record<string, string>;
}

/** `fileReadArgv`'s output: /proc/sys paths as sysctl keys ("/proc/sys/net/ipv4/conf/cni0/forwarding:1"). */
export function parseFileReads(result: Pick<CommandResult, 'stdout' | 'stderr'>, files: NodeFiles): NodeFileReads {
  const sysctls: Record<string, string> = {};
  const legacyTables: string[] = [];
  const subnetLines: string[] = [];
  for (const line of result.stdout.split('\n')) {
    if (line.startsWith(`${files.subnetEnv}:`)) subnetLines.push(line.slice(files.subnetEnv.length + 1));
    else if (line.startsWith(`${LEGACY_TABLE_NAMES}:`)) legacyTables.push(line.slice(LEGACY_TABLE_NAMES.length + 1).trim());
    else {
      const m = /^\/proc\/sys\/([^:]+):(.*)$/.exec(line);
      if (m) sysctls[m[1]!.replaceAll('/', '.')] = m[2]!.trim();
    }
  }
  const subnetMissing = !subnetLines.length && result.stderr.includes(`${files.subnetEnv}: No such file`);
  return { sysctls, legacyTables: legacyTables.filter(Boolean), ...(subnetMissing ? {} : { subnetEnv: parseEnvFile(subnetLines.join('\n')) }) };
}

/**
 * Reads a node's state in one parallel pass (one exec where the executor batches). Throws
 * NodeUnreadError when a read every check relies on failed or timed out.
 */
export async function observeNode(node: string, exec: Executor, files: NodeFiles): Promise<NodeObservation> {
  const reads = await execAll(
    exec,
    [
      // The slowest first, so that the others run while they do.
      ['nft', '-a', 'list', 'ruleset'],
      ['iptables-save'],
      // Every link with its details and its addresses: links and addresses in one read.
      ['ip', '-j', '-d', 'addr', 'show'],
      ['ip', '-j', 'route', 'show'],
      ['ip', '-j', 'neigh', 'show'],
      ['bridge', '-j', 'fdb', 'show'],
      ['ip', '-j', 'rule', 'show'],
      fileReadArgv(files),
    ],
    { check: false, timeoutMs: 10_000 },
  ).catch((e: unknown) => {
    throw new NodeUnreadError(node, [e instanceof Error ? e.message.split('\n')[0]! : String(e)]);
  });
  const [nft, save, links, routes, neighbours, fdb, rules, fileRead] = reads;
  const fileReads = parseFileReads(fileRead!, files);
  // nft may be absent and files may be missing (facts); the others every check relies on.
  const failed = [links, routes, neighbours, fdb, rules, save].filter((r) => r!.exitCode !== 0);
  if (!('net.ipv4.conf.all.forwarding' in fileReads.sysctls)) failed.push(fileRead);
  if (failed.length) throw new NodeUnreadError(node, failed.map((r) => `${r!.argv.join(' ')}: exit ${r!.exitCode}: ${r!.stderr.trim().split('\n')[0] ?? ''}`));
  // iptables-nft writes "# Generated by iptables-save v1.8.9 (nf_tables) on …", legacy the same without
  // "(nf_tables)". No table, no header: then no rule the flavour would name a binary for (and `iptables` is right either way).
  const header = /^# Generated by iptables-save .*$/m.exec(save!.stdout)?.[0];
  const flavour = header && !header.includes('(nf_tables)') ? 'legacy' : 'nf_tables';
  let legacy: IptablesTables | undefined;
  if (flavour !== 'legacy' && fileReads.legacyTables.length) {
    // iptables-legacy-save would create empty tables: it runs only when some are loaded.
    const r = await exec.exec(['iptables-legacy-save'], { check: false, timeoutMs: 10_000 }).catch(() => undefined);
    if (r?.exitCode !== 0) throw new NodeUnreadError(node, [`iptables-legacy-save: ${r ? `exit ${r.exitCode}: ${r.stderr.trim()}` : 'did not finish'}`]);
    legacy = parseIptablesSave(r.stdout);
  }
  try {
    return {
      node,
      links: parseLinks(links!.stdout),
      addresses: parseAddresses(links!.stdout),
      routes: parseRoutes(routes!.stdout),
      neighbours: parseNeighbours(neighbours!.stdout),
      fdb: parseFdb(fdb!.stdout),
      rules: parseRules(rules!.stdout),
      sysctls: fileReads.sysctls,
      iptables: { flavour, tables: parseIptablesSave(save!.stdout), ...(legacy ? { legacy } : {}) },
      nftRuleset: nft!.exitCode === 0 ? nft!.stdout : '',
      ...(fileReads.subnetEnv ? { subnetEnv: fileReads.subnetEnv } : {}),
    };
  } catch (e) {
    // Output these parsers do not know (another iproute2): what it says is unknown, not empty.
    throw new NodeUnreadError(node, [e instanceof Error ? e.message : String(e)]);
  }
}

export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/^\s*([A-Z_][A-Z0-9_]*)=(.*)$/gm)) out[m[1]!] = m[2]!.trim();
  return out;
}
