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
  errors: string[];
}

export const SYSCTLS = ['net.ipv4.ip_forward', 'net.bridge.bridge-nf-call-iptables', 'net.ipv4.conf.all.rp_filter'] as const;

export async function observeNode(node: string, exec: Executor, files: NodeFiles): Promise<NodeObservation> {
  const errors: string[] = [];
  const [links, addresses, routes, neighbours, fdb, sysctls, confs, rules, version, save, legacyNames, nft, subnetEnv] = await execAll(
    exec,
    [
      ['ip', '-j', '-d', 'link', 'show'],
      ['ip', '-j', 'addr', 'show'],
      ['ip', '-j', 'route', 'show'],
      ['ip', '-j', 'neigh', 'show'],
      ['bridge', '-j', 'fdb', 'show'],
      ['sysctl', ...SYSCTLS],
      // Every interface's forwarding and rp_filter in one read (no glob without a shell).
      ['grep', '-r', '--include=forwarding', '--include=rp_filter', '', '/proc/sys/net/ipv4/conf'],
      ['ip', '-j', 'rule', 'show'],
      ['iptables', '-V'],
      ['iptables-save'],
      // Legacy tables exist in this namespace only if something loaded them; iptables-legacy-save
      // would create empty ones, so it runs only when there is something to read.
      ['cat', '/proc/net/ip_tables_names'],
      ['nft', '-a', 'list', 'ruleset'],
      ['cat', files.subnetEnv],
    ],
    { check: false, timeoutMs: 10_000 },
  );
  // What every check needs: a failure here is an observation error; the others (a missing subnet.env…) are facts.
  const out = (r: CommandResult) => {
    if (r.exitCode !== 0) errors.push(`${r.argv.join(' ')}: exit ${r.exitCode}: ${r.stderr.trim().split('\n')[0] ?? ''}`);
    return r.exitCode === 0 ? r.stdout : '';
  };
  const flavour = out(version!).includes('legacy') ? 'legacy' : 'nf_tables';
  const legacy =
    flavour === 'legacy' || !legacyNames!.stdout.trim() ? undefined : parseIptablesSave(out(await exec.exec(['iptables-legacy-save'], { check: false, timeoutMs: 10_000 })));
  return {
    node,
    links: parseLinks(out(links!)),
    addresses: parseAddresses(out(addresses!)),
    routes: parseRoutes(out(routes!)),
    neighbours: parseNeighbours(out(neighbours!)),
    fdb: parseFdb(out(fdb!)),
    rules: parseRules(out(rules!)),
    sysctls: { ...parseConfFiles(confs!.stdout), ...parseSysctl(sysctls!.stdout) },
    iptables: { flavour, tables: parseIptablesSave(out(save!)), ...(legacy ? { legacy } : {}) },
    nftRuleset: nft!.exitCode === 0 ? nft!.stdout : '',
    ...(subnetEnv!.exitCode === 0 ? { subnetEnv: parseEnvFile(subnetEnv!.stdout) } : {}),
    errors,
  };
}

/** `sysctl a b` prints "a = 1" per key (and an error on stderr for a missing key). */
export function parseSysctl(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/^([\w.-]+)\s*=\s*(.*)$/gm)) out[m[1]!] = m[2]!.trim();
  return out;
}

/** `grep -r '' /proc/sys/net/ipv4/conf` lines ("/proc/sys/net/ipv4/conf/cni0/forwarding:1") as sysctl keys. */
export function parseConfFiles(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/^\/proc\/sys\/net\/ipv4\/conf\/([^/]+)\/(\w+):(.*)$/gm)) out[`net.ipv4.conf.${m[1]!}.${m[2]!}`] = m[3]!.trim();
  return out;
}

export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/^\s*([A-Z_][A-Z0-9_]*)=(.*)$/gm)) out[m[1]!] = m[2]!.trim();
  return out;
}
