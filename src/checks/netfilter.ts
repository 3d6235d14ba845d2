import { type Finding } from '../findings.js';
import { type ClusterObservation } from '../observe/cluster.js';
import { type IptablesRule, type IptablesTables } from '../observe/iptables.js';
import { type NodeObservation } from '../observe/node.js';
import { dropsVxlan, nftRules, type NftRule } from './firewall.js';

/** The chains the kernel runs for every packet: a DROP there is on the pod path whatever else the node runs. */
const BUILTIN = ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'];
/** The interfaces pod traffic crosses on a flannel node. */
const POD_INTERFACES = ['cni0', 'flannel.1', 'veth+'];

/**
 * Drops of pod traffic in any table and built-in chain (raw, mangle, filter; iptables-nft and
 * iptables-legacy alike) and in native nftables: a DROP or REJECT that matches the pod network
 * by address or by interface, or matches everything. What the other checks name already
 * (UDP 8472, anything in FORWARD before flannel's accepts) is left to them.
 */
export function checkPodTrafficDrops(obs: ClusterObservation): Finding[] {
  const podNets = obs.nodes.map((n) => n.spec?.podCIDR).filter((c): c is string => !!c);
  const findings: Finding[] = [];
  for (const [node, o] of obs.state) {
    const sets: [binary: string, tables: IptablesTables | undefined][] = [
      [o.iptables.flavour === 'legacy' ? 'iptables-legacy' : 'iptables', o.iptables.tables],
      ...(o.iptables.flavour === 'legacy' ? [] : ([['iptables-legacy', o.iptables.legacy]] as [string, IptablesTables | undefined][])),
    ];
    for (const [binary, tables] of sets) {
      for (const [table, chains] of Object.entries(tables ?? {})) {
        for (const chain of Object.values(chains).filter((c) => BUILTIN.includes(c.name))) {
          const checkedElsewhere = (r: IptablesRule) => dropsVxlan(r) || (binary !== 'iptables-legacy' && table === 'filter' && chain.name === 'FORWARD' && beforeFlannel(o, r));
          for (const rule of chain.rules.filter((r) => dropsPodTraffic(r, podNets) && !checkedElsewhere(r))) {
            findings.push({
              kind: 'pod-traffic-dropped',
              severity: 'critical',
              node,
              summary: `${node}: ${binary} ${table}/${chain.name} rule ${rule.position} (${rule.target}) drops pod traffic`,
              evidence: [{ source: `${node}: ${binary}-save -t ${table}`, observed: rule.text, expected: `no DROP or REJECT matching the pod network (${podNets.join(', ')}) or its interfaces in ${table}/${chain.name}` }],
              repair: 'delete-iptables-rule',
              detail: { binary, table, chain: chain.name, args: rule.args },
            });
          }
        }
      }
    }
    for (const rule of nftRules(o.nftRuleset, o.iptables.flavour === 'nf_tables').filter((r) => nftDropsPodTraffic(r, podNets))) {
      findings.push({
        kind: 'pod-traffic-dropped',
        severity: 'critical',
        node,
        summary: `${node}: nftables ${rule.family} ${rule.table}/${rule.chain} drops pod traffic`,
        evidence: [{ source: `${node}: nft -a list ruleset`, observed: rule.text, expected: `no drop or reject matching the pod network (${podNets.join(', ')}) or its interfaces` }],
        repair: 'delete-nft-rule',
        detail: { family: rule.family, table: rule.table, chain: rule.chain, handle: rule.handle },
      });
    }
  }
  return findings;
}

function beforeFlannel(o: NodeObservation, rule: IptablesRule): boolean {
  const flannel = o.iptables.tables.filter?.FORWARD?.rules.find((r) => r.target === 'FLANNEL-FWD');
  return !flannel || rule.position < flannel.position;
}

function dropsPodTraffic(rule: IptablesRule, podNets: string[]): boolean {
  if (rule.target !== 'DROP' && rule.target !== 'REJECT') return false;
  const a = rule.args;
  if (/--ctstate INVALID\b/.test(a.join(' '))) return false;
  const value = (flag: string) => {
    const i = a.indexOf(flag);
    return i > 0 && a[i - 1] === '!' ? undefined : i >= 0 ? a[i + 1] : undefined;
  };
  const addresses = [value('-s'), value('-d')].filter((x): x is string => !!x);
  const interfaces = [value('-i'), value('-o')].filter((x): x is string => !!x);
  if (addresses.some((x) => podNets.some((n) => overlaps(x, n)))) return true;
  if (interfaces.some((x) => POD_INTERFACES.some((p) => sameInterface(x, p)))) return true;
  // Matches everything: only the target and its own options.
  return a.indexOf('-j') === 0;
}

function nftDropsPodTraffic(rule: NftRule, podNets: string[]): boolean {
  if (!/\b(drop|reject)\b/.test(rule.text)) return false;
  if (/\bct state invalid\b/.test(rule.text)) return false;
  const addresses = [...rule.text.matchAll(/\bip [sd]addr (?!!=)(\S+)/g)].map((m) => m[1]!);
  const interfaces = [...rule.text.matchAll(/\b[io]ifname (?!!=)"?([^"\s]+)"?/g)].map((m) => m[1]!.replace(/\*$/, '+'));
  if (addresses.some((x) => podNets.some((n) => overlaps(x, n)))) return true;
  if (interfaces.some((x) => POD_INTERFACES.some((p) => sameInterface(x, p)))) return true;
  return /^(drop|reject)\b/.test(rule.text);
}

/** iptables' "veth+" matches every name starting with "veth". */
const sameInterface = (a: string, b: string) => a === b || (b.endsWith('+') && a.startsWith(b.slice(0, -1))) || (a.endsWith('+') && b.startsWith(a.slice(0, -1)));

/** An IPv4 prefix as numbers: its network address and its length. */
export interface Cidr {
  net: number;
  len: number;
}

/** "a.b.c.d/n", or a bare address (as `ip -j route` prints a host route, length 32); undefined for anything else. */
export function parseCidr(cidr: string): Cidr | undefined {
  const [ip, len] = cidr.split('/');
  const parts = ip!.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return undefined;
  return { net: ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0, len: len === undefined ? 32 : Number(len) };
}

/** Two prefixes share an address. */
export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  const len = Math.min(a.len, b.len);
  const mask = len === 0 ? 0 : (~0 << (32 - len)) >>> 0;
  return ((a.net & mask) >>> 0) === ((b.net & mask) >>> 0);
}

/** Two IPv4 prefixes ("a.b.c.d/n", or a bare address) share an address. */
export function overlaps(a: string, b: string): boolean {
  const [ca, cb] = [parseCidr(a), parseCidr(b)];
  return ca !== undefined && cb !== undefined && cidrsOverlap(ca, cb);
}
