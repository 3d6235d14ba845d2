import { BACKEND_DATA, nodeFacts, podVeths } from '../../src/checks/cluster-facts.js';
import { type ClusterObservation } from '../../src/observe/cluster.js';
import { execStep, type Step } from '../../src/repairs/plan.js';

/**
 * One random fault, as drawn: an operator, the node it acts on, and a number the operator
 * turns into its other choices (a peer, a table and chain, an interface). Printed as
 * `op@node#pick`, which is also what `--replay` reads.
 */
export interface Mutation {
  op: string;
  node: string;
  pick: number;
}

/** What a mutation does to the lab, and what undoes it, as steps (argv on a node, API patches). */
export interface Injection {
  /** The mutation in words, with its resolved choices. */
  description: string;
  inject: Step[];
  undo: Step[];
}

/** What the operators need to know about the lab to resolve a mutation, read once before each draw. */
export interface LabFacts {
  nodes: {
    name: string;
    ip: string;
    podCIDR: string;
    vtepIp: string;
    vtepMac: string;
    gateway: string;
    uplink: string;
    veths: string[];
    annotation: string;
  }[];
  dnsReplicas: number;
}

export interface Operator {
  id: string;
  /** Resolves the mutation against the lab, or undefined when it cannot apply (a node without pods has no veth). */
  resolve(m: Mutation, facts: LabFacts): Injection | undefined;
}

/** A MAC and an underlay address nothing in the lab has. */
const BOGUS_MAC = '02:de:ad:be:ef:01';
const BOGUS_IP = '172.18.255.254';
/** Where drop rules match: flannel's vxlan packets, or any pod traffic. */
const MATCHES = [
  ['-p', 'udp', '--dport', '8472'],
  ['-s', '10.244.0.0/16'],
  ['-d', '10.244.0.0/16'],
] as const;
const NFT_MATCHES = [
  ['udp', 'dport', '8472'],
  ['ip', 'saddr', '10.244.0.0/16'],
  ['ip', 'daddr', '10.244.0.0/16'],
] as const;
/** The chains each table has that pod or vxlan traffic passes. */
const TABLE_CHAINS: [string, string][] = [
  ['raw', 'PREROUTING'],
  ['raw', 'OUTPUT'],
  ['mangle', 'PREROUTING'],
  ['mangle', 'INPUT'],
  ['mangle', 'FORWARD'],
  ['mangle', 'OUTPUT'],
  ['filter', 'INPUT'],
  ['filter', 'FORWARD'],
  ['filter', 'OUTPUT'],
];
const NFT_HOOKS = ['prerouting', 'input', 'forward', 'output'] as const;
const FUZZ_NFT_TABLE = 'firedrill_fuzz';

type Node = LabFacts['nodes'][number];
const at = <T>(items: readonly T[], pick: number): T => items[pick % items.length]!;
const peerOf = (facts: LabFacts, node: Node, pick: number) => at(facts.nodes.filter((n) => n.name !== node.name), pick);

/** Every operator, over the state the library models: vxlan peers, sysctls, netfilter, links, the bridge, the API. */
export const operators: Operator[] = [
  {
    id: 'fdb-delete',
    resolve(m, facts) {
      const n = node(facts, m);
      const p = peerOf(facts, n, m.pick);
      return {
        description: `${n.name}: delete the flannel.1 FDB entry for ${p.name} (${p.vtepMac} dst ${p.ip})`,
        inject: [execStep(n.name, ['bridge', 'fdb', 'del', p.vtepMac, 'dev', 'flannel.1', 'dst', p.ip, 'self'], 'fuzz')],
        undo: [execStep(n.name, ['bridge', 'fdb', 'replace', p.vtepMac, 'dev', 'flannel.1', 'dst', p.ip, 'self', 'permanent'], 'undo', true)],
      };
    },
  },
  {
    id: 'fdb-wrong-dst',
    resolve(m, facts) {
      const n = node(facts, m);
      const p = peerOf(facts, n, m.pick);
      return {
        description: `${n.name}: replace the FDB entry for ${p.name}'s ${p.vtepMac} with dst ${BOGUS_IP}`,
        inject: [execStep(n.name, ['bridge', 'fdb', 'replace', p.vtepMac, 'dev', 'flannel.1', 'dst', BOGUS_IP, 'self', 'permanent'], 'fuzz')],
        undo: [execStep(n.name, ['bridge', 'fdb', 'replace', p.vtepMac, 'dev', 'flannel.1', 'dst', p.ip, 'self', 'permanent'], 'undo', true)],
      };
    },
  },
  {
    id: 'neigh-delete',
    resolve(m, facts) {
      const n = node(facts, m);
      const p = peerOf(facts, n, m.pick);
      return {
        description: `${n.name}: delete the flannel.1 neighbour for ${p.name}'s VTEP ${p.vtepIp}`,
        inject: [execStep(n.name, ['ip', 'neigh', 'del', p.vtepIp, 'dev', 'flannel.1'], 'fuzz')],
        undo: [execStep(n.name, ['ip', 'neigh', 'replace', p.vtepIp, 'lladdr', p.vtepMac, 'dev', 'flannel.1', 'nud', 'permanent'], 'undo', true)],
      };
    },
  },
  {
    id: 'neigh-wrong-mac',
    resolve(m, facts) {
      const n = node(facts, m);
      const p = peerOf(facts, n, m.pick);
      return {
        description: `${n.name}: replace the neighbour for ${p.name}'s VTEP ${p.vtepIp} with MAC ${BOGUS_MAC}`,
        inject: [execStep(n.name, ['ip', 'neigh', 'replace', p.vtepIp, 'lladdr', BOGUS_MAC, 'dev', 'flannel.1', 'nud', 'permanent'], 'fuzz')],
        undo: [execStep(n.name, ['ip', 'neigh', 'replace', p.vtepIp, 'lladdr', p.vtepMac, 'dev', 'flannel.1', 'nud', 'permanent'], 'undo', true)],
      };
    },
  },
  {
    id: 'route-delete',
    resolve(m, facts) {
      const n = node(facts, m);
      const p = peerOf(facts, n, m.pick);
      return {
        description: `${n.name}: delete the route to ${p.name}'s pods ${p.podCIDR}`,
        inject: [execStep(n.name, ['ip', 'route', 'del', p.podCIDR], 'fuzz')],
        undo: [peerRoute(n, p)],
      };
    },
  },
  {
    id: 'route-replace',
    resolve(m, facts) {
      const n = node(facts, m);
      const p = peerOf(facts, n, m.pick);
      const how = at([['blackhole'], ['unreachable'], ['prohibit'], ['dev', 'cni0'], ['via', BOGUS_IP, 'dev', n.uplink]], Math.floor(m.pick / 2));
      const argv = how[0] === 'dev' || how[0] === 'via' ? ['ip', 'route', 'replace', p.podCIDR, ...how] : ['ip', 'route', 'replace', how[0]!, p.podCIDR];
      return {
        description: `${n.name}: replace the route to ${p.name}'s pods ${p.podCIDR} with "${argv.slice(3).join(' ')}"`,
        inject: [execStep(n.name, argv, 'fuzz')],
        undo: [peerRoute(n, p)],
      };
    },
  },
  {
    id: 'route-more-specific',
    resolve(m, facts) {
      const n = node(facts, m);
      // Half of a node's pod prefix (the half its pods' addresses come from), taken away by a longer route.
      const target = at([peerOf(facts, n, m.pick), n], Math.floor(m.pick / 2));
      const half = `${target.podCIDR.split('/')[0]}/${Number(target.podCIDR.split('/')[1]) + 1}`;
      const how = at([['blackhole', half], ['unreachable', half], ['prohibit', half], [half, 'via', BOGUS_IP, 'dev', n.uplink], [half, 'dev', target === n ? 'flannel.1' : 'cni0']], Math.floor(m.pick / 4));
      return {
        description: `${n.name}: ip route add ${how.join(' ')} (inside ${target.name}'s pod prefix ${target.podCIDR})`,
        inject: [execStep(n.name, ['ip', 'route', 'add', ...how], 'fuzz')],
        undo: [execStep(n.name, ['ip', 'route', 'del', ...how], 'undo', true)],
      };
    },
  },
  {
    id: 'local-route-replace',
    resolve(m, facts) {
      const n = node(facts, m);
      const dev = at([n.uplink, 'flannel.1'], m.pick);
      return {
        description: `${n.name}: the route to its own pods ${n.podCIDR} replaced by one via ${dev}`,
        inject: [execStep(n.name, ['ip', 'route', 'replace', n.podCIDR, 'dev', dev], 'fuzz')],
        undo: [execStep(n.name, ['ip', 'route', 'replace', n.podCIDR, 'dev', 'cni0', 'proto', 'kernel', 'scope', 'link', 'src', n.gateway.split('/')[0]!], 'undo', true)],
      };
    },
  },
  {
    id: 'policy-rule',
    resolve(m, facts) {
      const n = node(facts, m);
      const p = peerOf(facts, n, m.pick);
      // Seed 001's pattern: a rule diverting pod traffic to a table that does not reach the pod network.
      const rule = at([['to', p.podCIDR], ['from', n.podCIDR]], Math.floor(m.pick / 2));
      const argv = [...rule, 'priority', '100', 'lookup', '100'];
      return {
        description: `${n.name}: policy routing "ip rule add ${argv.join(' ')}" to a table with only a default route via a bogus gateway`,
        inject: [
          execStep(n.name, ['ip', 'route', 'replace', 'default', 'via', BOGUS_IP, 'dev', n.uplink, 'table', '100'], 'fuzz: the diverting table'),
          execStep(n.name, ['ip', 'rule', 'add', ...argv], 'fuzz'),
        ],
        undo: [execStep(n.name, ['ip', 'rule', 'del', ...argv], 'undo', true), execStep(n.name, ['ip', 'route', 'flush', 'table', '100'], 'undo', true)],
      };
    },
  },
  {
    id: 'ip-forward-off',
    resolve(m, facts) {
      const n = node(facts, m);
      return {
        description: `${n.name}: net.ipv4.ip_forward=0`,
        inject: [execStep(n.name, ['sysctl', '-w', 'net.ipv4.ip_forward=0'], 'fuzz')],
        undo: [execStep(n.name, ['sysctl', '-w', 'net.ipv4.ip_forward=1'], 'undo')],
      };
    },
  },
  {
    id: 'iface-forwarding-off',
    resolve(m, facts) {
      const n = node(facts, m);
      const dev = at(['flannel.1', 'cni0', n.uplink], m.pick);
      // The path form: sysctl would read the dot in flannel.1 as a separator.
      const key = `net/ipv4/conf/${dev}/forwarding`;
      return {
        description: `${n.name}: ${key}=0`,
        inject: [execStep(n.name, ['sysctl', '-w', `${key}=0`], 'fuzz')],
        undo: [execStep(n.name, ['sysctl', '-w', `${key}=1`], 'undo')],
      };
    },
  },
  {
    id: 'rp-filter-strict',
    resolve(m, facts) {
      const n = node(facts, m);
      const dev = at(['all', 'flannel.1', 'cni0', n.uplink], m.pick);
      const key = `net/ipv4/conf/${dev}/rp_filter`;
      return {
        description: `${n.name}: ${key}=1 (strict)`,
        inject: [execStep(n.name, ['sysctl', '-w', `${key}=1`], 'fuzz')],
        undo: [execStep(n.name, ['sysctl', '-w', `${key}=0`], 'undo')],
      };
    },
  },
  {
    id: 'iptables-drop',
    resolve(m, facts) {
      const n = node(facts, m);
      const [table, chain] = at(TABLE_CHAINS, m.pick);
      const binary = at(['iptables', 'iptables-legacy'], Math.floor(m.pick / TABLE_CHAINS.length));
      const match = at(MATCHES, Math.floor(m.pick / (2 * TABLE_CHAINS.length)));
      const target = table === 'filter' && Math.floor(m.pick / (6 * TABLE_CHAINS.length)) % 2 ? ['REJECT'] : ['DROP'];
      const rule = [chain, ...match, '-j', ...target];
      return {
        description: `${n.name}: ${binary} -t ${table} -I ${rule.join(' ')}`,
        inject: [execStep(n.name, [binary, '-w', '-t', table, '-I', chain, '1', ...rule.slice(1)], 'fuzz')],
        undo: [execStep(n.name, [binary, '-w', '-t', table, '-D', ...rule], 'undo', true)],
      };
    },
  },
  {
    id: 'flannel-fwd-drop',
    resolve(m, facts) {
      const n = node(facts, m);
      const match = at([[], ['-s', n.podCIDR], ['-d', n.podCIDR]], m.pick);
      const rule = [...match, '-j', at(['DROP', 'REJECT'], Math.floor(m.pick / 3))];
      return {
        description: `${n.name}: iptables -I FLANNEL-FWD 1 ${rule.join(' ')} (a rule in flanneld's own chain)`,
        inject: [execStep(n.name, ['iptables', '-w', '-I', 'FLANNEL-FWD', '1', ...rule], 'fuzz')],
        undo: [execStep(n.name, ['iptables', '-w', '-D', 'FLANNEL-FWD', ...rule], 'undo', true)],
      };
    },
  },
  {
    id: 'nft-drop',
    resolve(m, facts) {
      const n = node(facts, m);
      const hook = at(NFT_HOOKS, m.pick);
      const match = at(NFT_MATCHES, Math.floor(m.pick / NFT_HOOKS.length));
      return {
        description: `${n.name}: native nftables table inet ${FUZZ_NFT_TABLE}, hook ${hook}: ${match.join(' ')} drop`,
        inject: [
          execStep(n.name, ['nft', 'add', 'table', 'inet', FUZZ_NFT_TABLE], 'fuzz'),
          execStep(n.name, ['nft', 'add', 'chain', 'inet', FUZZ_NFT_TABLE, hook, '{', 'type', 'filter', 'hook', hook, 'priority', '-10', ';', '}'], 'fuzz'),
          execStep(n.name, ['nft', 'add', 'rule', 'inet', FUZZ_NFT_TABLE, hook, ...match, 'drop'], 'fuzz'),
        ],
        undo: [execStep(n.name, ['nft', 'delete', 'table', 'inet', FUZZ_NFT_TABLE], 'undo', true)],
      };
    },
  },
  {
    id: 'link-down',
    resolve(m, facts) {
      const n = node(facts, m);
      const dev = at(['flannel.1', 'cni0', ...n.veths], m.pick);
      // flannel.1 down takes its routes and neighbours with it: flanneld programs them again when restarted.
      const undo = [execStep(n.name, ['ip', 'link', 'set', dev, 'up'], 'undo', true)];
      if (dev === 'flannel.1') undo.push(...facts.nodes.filter((p) => p.name !== n.name).flatMap((p) => reprogram(n, p)));
      return { description: `${n.name}: ip link set ${dev} down`, inject: [execStep(n.name, ['ip', 'link', 'set', dev, 'down'], 'fuzz')], undo };
    },
  },
  {
    id: 'veth-detach',
    resolve(m, facts) {
      const n = node(facts, m);
      if (!n.veths.length) return undefined;
      const veth = at(n.veths, m.pick);
      return {
        description: `${n.name}: ip link set ${veth} nomaster (detached from cni0)`,
        inject: [execStep(n.name, ['ip', 'link', 'set', veth, 'nomaster'], 'fuzz')],
        undo: [execStep(n.name, ['ip', 'link', 'set', veth, 'master', 'cni0'], 'undo', true), execStep(n.name, ['bridge', 'link', 'set', 'dev', veth, 'hairpin', 'on'], 'undo', true)],
      };
    },
  },
  {
    id: 'pod-move',
    resolve(m, facts) {
      const n = node(facts, m);
      if (!n.veths.length) return undefined;
      const veth = at(n.veths, m.pick);
      const to = peerOf(facts, n, Math.floor(m.pick / n.veths.length));
      // A lab node is the network namespace named after it.
      return {
        description: `${n.name}: pod veth ${veth} moved into ${to.name} (the pod, its address from ${n.podCIDR}, now plugged into another node)`,
        inject: [execStep(n.name, ['ip', 'link', 'set', veth, 'netns', to.name], 'fuzz')],
        undo: [
          execStep(to.name, ['ip', 'link', 'set', veth, 'netns', n.name], 'undo', true),
          execStep(n.name, ['ip', 'link', 'set', veth, 'master', 'cni0'], 'undo', true),
          execStep(n.name, ['bridge', 'link', 'set', 'dev', veth, 'hairpin', 'on'], 'undo', true),
          execStep(n.name, ['ip', 'link', 'set', veth, 'up'], 'undo', true),
        ],
      };
    },
  },
  {
    id: 'cni0-address-delete',
    resolve(m, facts) {
      const n = node(facts, m);
      return {
        description: `${n.name}: ip addr del ${n.gateway} dev cni0`,
        inject: [execStep(n.name, ['ip', 'addr', 'del', n.gateway, 'dev', 'cni0'], 'fuzz')],
        undo: [execStep(n.name, ['ip', 'addr', 'replace', n.gateway, 'dev', 'cni0'], 'undo', true)],
      };
    },
  },
  {
    id: 'vxlan-mtu',
    resolve(m, facts) {
      const n = node(facts, m);
      // Lowered: below the uplink's 1500 less the 50 bytes of vxlan. Raised: the kernel refuses a
      // vxlan MTU above its uplink's, so the NIC goes to jumbo frames first, which the underlay
      // between the nodes does not carry (examples/scenarios/flannel-mtu.yaml): large packets vanish.
      const mtu = at(['1000', '1200', '1400', '8950'], m.pick);
      const raised = mtu === '8950';
      return {
        description: `${n.name}: ${raised ? `ip link set ${n.uplink} mtu 9000; ` : ''}ip link set flannel.1 mtu ${mtu}`,
        inject: [...(raised ? [execStep(n.name, ['ip', 'link', 'set', n.uplink, 'mtu', '9000'], 'fuzz: jumbo frames on the NIC')] : []), execStep(n.name, ['ip', 'link', 'set', 'flannel.1', 'mtu', mtu], 'fuzz')],
        undo: [
          execStep(n.name, ['ip', 'link', 'set', 'flannel.1', 'mtu', '1450'], 'undo', true),
          ...(raised ? [execStep(n.name, ['ip', 'link', 'set', n.uplink, 'mtu', '1500'], 'undo', true)] : []),
        ],
      };
    },
  },
  {
    id: 'vxlan-learning',
    resolve(m, facts) {
      const n = node(facts, m);
      return {
        description: `${n.name}: ip link set flannel.1 type vxlan learning`,
        inject: [execStep(n.name, ['ip', 'link', 'set', 'flannel.1', 'type', 'vxlan', 'learning'], 'fuzz')],
        undo: [execStep(n.name, ['ip', 'link', 'set', 'flannel.1', 'type', 'vxlan', 'nolearning'], 'undo', true)],
      };
    },
  },
  {
    id: 'vtep-annotation',
    resolve(m, facts) {
      const n = node(facts, m);
      const value = JSON.stringify({ ...(JSON.parse(n.annotation) as object), VtepMAC: BOGUS_MAC });
      return {
        description: `Node ${n.name}: VtepMAC annotation patched to ${BOGUS_MAC}`,
        inject: [annotation(n.name, value, 'fuzz')],
        undo: [
          annotation(n.name, n.annotation, 'undo'),
          ...facts.nodes.filter((p) => p.name !== n.name).map((p) => execStep(p.name, ['bridge', 'fdb', 'del', BOGUS_MAC, 'dev', 'flannel.1', 'dst', n.ip, 'self'], 'undo: the entry flanneld leaves', true)),
        ],
      };
    },
  },
  {
    id: 'coredns-zero',
    resolve(_m, facts) {
      const scale = (replicas: number, why: string): Step => ({ kind: 'patch', resource: 'Deployment', namespace: 'kube-system', name: 'coredns', patchType: 'merge', body: { spec: { replicas } }, why });
      return {
        description: 'Deployment kube-system/coredns scaled to 0',
        inject: [scale(0, 'fuzz')],
        undo: [scale(facts.dnsReplicas, 'undo'), { kind: 'wait-rollout', namespace: 'kube-system', name: 'coredns', timeoutMs: 60_000, why: 'undo' }],
      };
    },
  },
];

export const operatorById = (id: string) => operators.find((o) => o.id === id);

function node(facts: LabFacts, m: Mutation): Node {
  const n = facts.nodes.find((x) => x.name === m.node);
  if (!n) throw new Error(`no node ${m.node} in the lab (nodes: ${facts.nodes.map((x) => x.name).join(', ')})`);
  return n;
}

const peerRoute = (n: Node, p: Node) => execStep(n.name, ['ip', 'route', 'replace', p.podCIDR, 'via', p.vtepIp, 'dev', 'flannel.1', 'onlink'], 'undo', true);

/** A peer as flanneld programs it: neighbour, FDB entry, route. */
const reprogram = (n: Node, p: Node) => [
  execStep(n.name, ['ip', 'neigh', 'replace', p.vtepIp, 'lladdr', p.vtepMac, 'dev', 'flannel.1', 'nud', 'permanent'], 'undo', true),
  execStep(n.name, ['bridge', 'fdb', 'replace', p.vtepMac, 'dev', 'flannel.1', 'dst', p.ip, 'self', 'permanent'], 'undo', true),
  peerRoute(n, p),
];

const annotation = (name: string, value: string, why: string): Step => ({
  kind: 'patch',
  resource: 'Node',
  name,
  patchType: 'merge',
  body: { metadata: { annotations: { [BACKEND_DATA]: value } } },
  why,
});

/** The facts, from a healthy lab's observation. */
export function labFacts(obs: ClusterObservation): LabFacts {
  return {
    nodes: obs.nodes.map((apiNode) => {
      const name = apiNode.metadata!.name!;
      const o = obs.state.get(name)!;
      const f = nodeFacts(apiNode, o);
      const uplink = o.addresses.find((a) => a.ifname !== 'lo' && a.ifname !== 'cni0' && a.ifname !== 'flannel.1' && a.addr_info.some((i) => i.family === 'inet'))?.ifname ?? 'eth0';
      return {
        name,
        ip: f.internalIp ?? '',
        podCIDR: f.podCIDR ?? '',
        vtepIp: f.vtepIp ?? '',
        vtepMac: f.realVtepMac ?? '',
        gateway: o.subnetEnv?.FLANNEL_SUBNET ?? '',
        uplink,
        veths: podVeths(o).map((v) => v.ifname),
        annotation: apiNode.metadata?.annotations?.[BACKEND_DATA] ?? '{}',
      };
    }),
    dnsReplicas: obs.dnsDeployment?.spec?.replicas ?? 2,
  };
}

export const formatMutation = (m: Mutation) => `${m.op}@${m.node}#${m.pick}`;

/** Reads `op@node#pick,op@node#pick`, as `formatMutation` writes them. */
export function parseDraw(text: string): Mutation[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const m = /^([a-z0-9.-]+)@([A-Za-z0-9.-]+)#(\d+)$/.exec(s);
      if (!m) throw new Error(`"${s}" is not op@node#pick`);
      if (!operatorById(m[1]!)) throw new Error(`unknown operator "${m[1]}" (operators: ${operators.map((o) => o.id).join(', ')})`);
      return { op: m[1]!, node: m[2]!, pick: Number(m[3]) };
    });
}
