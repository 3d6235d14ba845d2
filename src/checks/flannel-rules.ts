import { type Finding } from '../findings.js';
import { type ClusterObservation } from '../observe/cluster.js';
import { type IptablesRule } from '../observe/iptables.js';
import { type NodeObservation } from '../observe/node.js';
import { overlaps } from './netfilter.js';

/** kube-proxy's masquerade mark (flannel's trafficmngr.KubeProxyMark). */
const KUBE_PROXY_MARK = '0x4000/0x4000';

/** One of flanneld's chains and the jump to it from a built-in chain, with the rules flanneld keeps in it, in order. */
export interface FlannelChain {
  table: 'nat' | 'filter';
  chain: 'FLANNEL-POSTRTG' | 'FLANNEL-FWD';
  from: 'POSTROUTING' | 'FORWARD';
  jump: string[];
  rules: string[][];
}

/**
 * flanneld v0.28.9's iptables rules (pkg/trafficmngr/iptables: masqRules and forwardRules), as
 * iptables-save prints them. flanneld appends them (-A) in this order, and every 5 s re-creates
 * all of a set when one is missing; it never checks their order or what else is in its chains.
 */
export function flannelChains(network: string, subnet: string, randomFully: boolean): FlannelChain[] {
  const masqComment = ['-m', 'comment', '--comment', 'flanneld masq'];
  const masquerade = ['-j', 'MASQUERADE', ...(randomFully ? ['--random-fully'] : [])];
  const fwdComment = ['-m', 'comment', '--comment', 'flanneld forward'];
  return [
    {
      table: 'nat',
      chain: 'FLANNEL-POSTRTG',
      from: 'POSTROUTING',
      jump: [...masqComment, '-j', 'FLANNEL-POSTRTG'],
      rules: [
        ['-m', 'mark', '--mark', KUBE_PROXY_MARK, ...masqComment, '-j', 'RETURN'],
        ['-s', subnet, '-d', network, ...masqComment, '-j', 'RETURN'],
        ['-s', network, '-d', subnet, ...masqComment, '-j', 'RETURN'],
        ['!', '-s', network, '-d', subnet, ...masqComment, '-j', 'RETURN'],
        ['-s', network, '!', '-d', '224.0.0.0/4', ...masqComment, ...masquerade],
        ['!', '-s', network, '-d', network, ...masqComment, ...masquerade],
      ],
    },
    {
      table: 'filter',
      chain: 'FLANNEL-FWD',
      from: 'FORWARD',
      jump: [...fwdComment, '-j', 'FLANNEL-FWD'],
      rules: [
        ['-s', network, ...fwdComment, '-j', 'ACCEPT'],
        ['-d', network, ...fwdComment, '-j', 'ACCEPT'],
      ],
    },
  ];
}

/** How one of flanneld's chains differs from what flanneld writes; empty when it does not. */
export interface ChainDiff {
  expected: FlannelChain;
  chainMissing: boolean;
  missing: string[][];
  /** Rules in flanneld's chain that flanneld does not write. */
  extra: IptablesRule[];
  /** flanneld's rules are all there, not in flanneld's order. */
  misordered: boolean;
  jumpMissing: boolean;
  /** Rules of the built-in chain before flanneld's jump that take pod traffic out of it first. */
  preempting: IptablesRule[];
}

/** `--random-fully` depends on the iptables flanneld found; compared without it. */
const key = (args: string[]) => args.filter((a) => a !== '--random-fully').join(' ');

/**
 * flanneld's chains on a node, diffed against what it would write from its subnet.env: the
 * masquerade chain when FLANNEL_IPMASQ is true, the forward chain when flanneld made it (it does
 * unless --iptables-forward-rules=false). Copies of flanneld's own rules are not faults: its
 * resync and a repair can meet.
 */
export function flannelChainDiffs(o: NodeObservation): ChainDiff[] {
  const network = o.subnetEnv?.FLANNEL_NETWORK;
  const gateway = o.subnetEnv?.FLANNEL_SUBNET;
  if (!network || !gateway) return [];
  const subnet = networkOf(gateway);
  const tables = o.iptables.tables;
  const randomFully = !(tables.nat?.['FLANNEL-POSTRTG']?.rules ?? []).some((r) => r.target === 'MASQUERADE' && !r.args.includes('--random-fully'));
  return flannelChains(network, subnet, randomFully)
    .filter((c) => (c.table === 'nat' ? o.subnetEnv?.FLANNEL_IPMASQ === 'true' : !!tables.filter?.['FLANNEL-FWD'] || !!tables.filter?.FORWARD?.rules.some((r) => r.target === 'FLANNEL-FWD')))
    .map((c) => {
      const chain = tables[c.table]?.[c.chain];
      const rules = chain?.rules ?? [];
      const wanted = new Set(c.rules.map(key));
      const firstAt = c.rules.map((r) => rules.findIndex((x) => key(x.args) === key(r)));
      const found = firstAt.filter((i) => i >= 0);
      const from = tables[c.table]?.[c.from]?.rules ?? [];
      const jump = from.find((r) => key(r.args) === key(c.jump));
      return {
        expected: c,
        chainMissing: !chain,
        missing: c.rules.filter((_, i) => firstAt[i]! < 0),
        extra: rules.filter((r) => !wanted.has(key(r.args))),
        misordered: found.some((at, i) => i > 0 && at < found[i - 1]!),
        jumpMissing: !jump,
        preempting: c.table === 'nat' ? from.filter((r) => (!jump || r.position < jump.position) && preemptsMasquerade(r, network)) : [],
      };
    })
    .filter(diverges);
}

export const diverges = (d: ChainDiff) => d.chainMissing || d.missing.length > 0 || d.extra.length > 0 || d.misordered || d.jumpMissing || d.preempting.length > 0;

/**
 * A nat POSTROUTING rule that ends the chain for pod traffic before flanneld's jump: an ACCEPT or
 * RETURN (the chain's policy then applies), or a MASQUERADE or SNAT of its own, for any pod
 * source and any destination. kube-proxy's jump (to its own chain, marked packets only) is not one.
 */
function preemptsMasquerade(rule: IptablesRule, network: string): boolean {
  if (!['ACCEPT', 'RETURN', 'MASQUERADE', 'SNAT'].includes(rule.target ?? '')) return false;
  const a = rule.args;
  if (a.includes('mark') || a.includes('--mark')) return false;
  const match = (flag: string) => {
    const i = a.indexOf(flag);
    return i < 0 ? undefined : { negated: a[i - 1] === '!', value: a[i + 1]! };
  };
  const s = match('-s');
  const d = match('-d');
  return (!s || (!s.negated && overlaps(s.value, network))) && (!d || d.negated);
}

/** A rule's arguments as iptables-save prints them. */
export const ruleText = (args: string[]) => args.map((a) => (a.includes(' ') ? `"${a}"` : a)).join(' ');

/** "10.244.1.1/24" -> "10.244.1.0/24". */
function networkOf(cidr: string): string {
  const [ip, len] = cidr.split('/');
  const n = ip!.split('.').reduce((acc, p) => (acc << 8) + Number(p), 0) >>> 0;
  const bits = Number(len);
  const masked = bits === 0 ? 0 : (n & ((~0 << (32 - bits)) >>> 0)) >>> 0;
  return `${[24, 16, 8, 0].map((s) => (masked >>> s) & 255).join('.')}/${bits}`;
}

/**
 * flanneld's masquerade and forward chains, and the jumps to them, against what flanneld v0.28.9
 * writes. The forward chain carries pod traffic between nodes (a drop added to it, or its accepts
 * gone under a DROP policy, cuts it off); the masquerade chain decides which pod traffic leaves
 * with the node's address (its faults break pods' traffic to outside the pod network, which the
 * probe matrix does not see).
 */
export function checkFlannelRules(obs: ClusterObservation): Finding[] {
  const findings: Finding[] = [];
  for (const [node, o] of obs.state) {
    for (const d of flannelChainDiffs(o)) {
      const c = d.expected;
      const problems = [
        d.chainMissing ? `chain ${c.chain} is missing` : '',
        d.missing.length ? `${d.missing.length} of its rules missing` : '',
        d.extra.length ? `rule(s) flanneld does not write: ${d.extra.map((r) => r.text).join(' | ')}` : '',
        d.misordered ? "its rules out of flanneld's order" : '',
        d.jumpMissing ? `no jump from ${c.from}` : '',
        d.preempting.length ? `${c.from} ends pod traffic before flanneld's jump: ${d.preempting.map((r) => r.text).join(' | ')}` : '',
      ].filter(Boolean);
      const policy = o.iptables.tables.filter?.FORWARD?.policy;
      const drops = d.extra.some((r) => r.target === 'DROP' || r.target === 'REJECT');
      const critical = c.table === 'filter' && (drops || (policy === 'DROP' && (d.jumpMissing || d.missing.length > 0 || d.chainMissing)));
      const effect =
        c.table === 'nat'
          ? "pods' traffic to outside the pod network may leave unmasqueraded (or pod-to-pod traffic masqueraded)"
          : critical
            ? 'pod traffic forwarded between nodes is dropped'
            : 'pod traffic is forwarded only as long as nothing else in FORWARD drops it';
      findings.push({
        kind: c.table === 'nat' ? 'flannel-masq-rules' : 'flannel-forward-rules',
        severity: critical ? 'critical' : 'warning',
        node,
        summary: `${node}: flanneld's ${c.table}/${c.chain}: ${problems.join('; ')}: ${effect}`,
        evidence: [
          {
            source: `${node}: iptables-save -t ${c.table}`,
            observed: { [c.chain]: (o.iptables.tables[c.table]?.[c.chain]?.rules ?? []).map((r) => r.text), [c.from]: (o.iptables.tables[c.table]?.[c.from]?.rules ?? []).map((r) => r.text) },
            expected: { [c.chain]: c.rules.map((r) => `-A ${c.chain} ${ruleText(r)}`), [c.from]: `-A ${c.from} ${ruleText(c.jump)} (appended by flanneld; nothing before it ending pod traffic)` },
          },
        ],
        repair: 'restore-flannel-rules',
        detail: { table: c.table },
      });
    }
  }
  return findings;
}
