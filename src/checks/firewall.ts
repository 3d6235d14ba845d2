import { type Finding } from '../findings.js';
import { type ClusterObservation } from '../observe/cluster.js';
import { type IptablesRule, type IptablesTables } from '../observe/iptables.js';
import { VXLAN_PORT } from './cluster-facts.js';

/** Anything on a node that drops flannel's vxlan packets (UDP 8472), in any iptables table or chain, legacy or nft, or a native nftables rule. */
export function checkVxlanFirewall(obs: ClusterObservation): Finding[] {
  const findings: Finding[] = [];
  for (const [node, o] of obs.state) {
    const sets: [string, IptablesTables | undefined][] = [
      [o.iptables.flavour === 'legacy' ? 'iptables-legacy-save' : 'iptables-save', o.iptables.tables],
      ['iptables-legacy-save', o.iptables.legacy],
    ];
    for (const [source, tables] of sets) {
      for (const [table, chains] of Object.entries(tables ?? {})) {
        for (const chain of Object.values(chains)) {
          for (const rule of chain.rules.filter(dropsVxlan)) {
            findings.push({
              kind: 'vxlan-blocked',
              severity: 'critical',
              node,
              summary: `${node}: ${table}/${chain.name} rule ${rule.position} drops UDP ${VXLAN_PORT}: flannel's vxlan traffic ${/OUTPUT|POSTROUTING/.test(chain.name) ? 'from' : 'to'} this node is lost`,
              evidence: [{ source: `${node}: ${source} -t ${table}`, observed: rule.text, expected: `no rule dropping udp ${VXLAN_PORT}` }],
              repair: 'delete-iptables-rule',
              detail: { binary: source === 'iptables-legacy-save' ? 'iptables-legacy' : 'iptables', table, chain: chain.name, args: rule.args },
            });
          }
        }
      }
    }
    for (const rule of nftVxlanDrops(o.nftRuleset, o.iptables.flavour === 'nf_tables')) {
      findings.push({
        kind: 'vxlan-blocked',
        severity: 'critical',
        node,
        summary: `${node}: nftables ${rule.family} ${rule.table}/${rule.chain} drops UDP ${VXLAN_PORT}`,
        evidence: [{ source: `${node}: nft -a list ruleset`, observed: rule.text, expected: `no rule dropping udp ${VXLAN_PORT}` }],
        repair: 'delete-nft-rule',
        detail: { family: rule.family, table: rule.table, chain: rule.chain, handle: rule.handle },
      });
    }
  }
  return findings;
}

export function dropsVxlan(rule: IptablesRule): boolean {
  if (rule.target !== 'DROP' && rule.target !== 'REJECT') return false;
  const text = ` ${rule.args.join(' ')} `;
  const udp = / -p (udp|17) /.test(text);
  const port = new RegExp(`--(d|s)ports? (\\S*,)?${VXLAN_PORT}(,\\S*)? `).test(text);
  return udp && port;
}

export interface NftRule {
  family: string;
  table: string;
  chain: string;
  handle: string;
  text: string;
}

/** Native nftables rules dropping UDP 8472, from `nft -a list ruleset` text. */
export function nftVxlanDrops(ruleset: string, iptablesIsNft: boolean): NftRule[] {
  return nftRules(ruleset, iptablesIsNft).filter((r) => new RegExp(`\\b[ds]port (\\{[^}]*\\b)?${VXLAN_PORT}\\b`).test(r.text) && /\b(drop|reject)\b/.test(r.text));
}

/**
 * The rules of native nftables chains, from `nft -a list ruleset` text, with their handles. The
 * tables iptables-nft manages (ip and ip6 filter/nat/mangle/raw/security) are left to the iptables checks.
 */
export function nftRules(ruleset: string, iptablesIsNft: boolean): NftRule[] {
  const out: NftRule[] = [];
  let family = '';
  let table = '';
  let chain = '';
  for (const line of ruleset.split('\n')) {
    const t = line.trim();
    let m: RegExpExecArray | null;
    if ((m = /^table (\S+) (\S+) \{/.exec(t))) [family, table, chain] = [m[1]!, m[2]!, ''];
    else if ((m = /^chain (\S+) \{/.exec(t))) chain = m[1]!;
    else if (chain && /# handle \d+$/.test(t) && !/^(type|policy) /.test(t)) {
      if (iptablesIsNft && (family === 'ip' || family === 'ip6') && ['filter', 'nat', 'mangle', 'raw', 'security'].includes(table)) continue;
      out.push({ family, table, chain, handle: /# handle (\d+)/.exec(t)![1]!, text: t });
    }
  }
  return out;
}
