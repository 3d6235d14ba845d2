import { type ClusterAccess } from '../access.js';
import { flannelChainDiffs, ruleText } from '../checks/flannel-rules.js';
import { controllerOf, type PodToReplace } from '../checks/bridge.js';
import { type PeerDetail } from '../checks/vxlan.js';
import { BACKEND_DATA, podsOn } from '../checks/cluster-facts.js';
import { type Finding, type RepairKind } from '../findings.js';
import { type ClusterObservation } from '../observe/cluster.js';
import { ipv4Of, parseNeighbours } from '../observe/ip.js';
import { podHandle } from '../probes/probe.js';
import { execStep, type RepairPlan, type Step } from './plan.js';
import { type Expectation, identicalRules } from './postcondition.js';

/** Repairs run in this order: first what drops traffic, then what routes it, then what programs it, then placement. */
const ORDER: RepairKind[] = [
  'delete-iptables-rule',
  'delete-nft-rule',
  'forward-policy-accept',
  'enable-ip-forward',
  'enable-interface-forwarding',
  'delete-ip-rule',
  'restore-flannel-rules',
  'recreate-cni0',
  'fix-pod-routes',
  'set-vxlan-device',
  'restore-vtep-annotation',
  'fix-vxlan-peer',
  'restart-flanneld',
  'move-dns',
  'scale-dns',
  'replace-pod',
];

/** One plan per repair and node, for every finding that has a repair. */
export async function planRepairs(findings: Finding[], obs: ClusterObservation, access: ClusterAccess): Promise<RepairPlan[]> {
  const groups = new Map<string, Finding[]>();
  for (const f of findings) {
    if (!f.repair) continue;
    const key = `${f.repair}|${f.node ?? ''}`;
    groups.set(key, [...(groups.get(key) ?? []), f]);
  }
  const plans: RepairPlan[] = [];
  for (const group of groups.values()) {
    const plan = await planOne(group, obs, access);
    if (plan?.steps.length) plans.push(plan);
  }
  return plans.sort((a, b) => ORDER.indexOf(a.repair) - ORDER.indexOf(b.repair));
}

async function planOne(findings: Finding[], obs: ClusterObservation, access: ClusterAccess): Promise<RepairPlan | undefined> {
  const first = findings[0]!;
  const node = first.node;
  const base = { repair: first.repair!, ...(node ? { node } : {}), fixes: [...new Set(findings.map((f) => f.kind))] };
  const exec = (argv: string[], why: string, allowFailure = false) => execStep(node!, argv, why, allowFailure);
  switch (first.repair!) {
    case 'delete-iptables-rule': {
      const rules = uniqueBy(findings, (f) => JSON.stringify(f.detail)).map((f) => ({ f, d: f.detail as { binary: string; table: string; chain: string; args: string[] } }));
      // `-D` removes the first rule that matches: one per identical copy in the chain.
      const steps = rules.flatMap(({ f, d }) =>
        Array.from({ length: Math.max(1, identicalRules(obs.state.get(node!)!, d).length) }, () => exec([d.binary, '-w', '-t', d.table, '-D', d.chain, ...d.args], `remove: ${f.summary}`)),
      );
      return {
        ...base,
        summary: `${node}: delete ${steps.length} iptables rule(s) that drop pod or vxlan traffic`,
        steps,
        postcondition: rules.map(({ d }) => ({ kind: 'no-iptables-rule', node: node!, binary: d.binary, table: d.table, chain: d.chain, args: d.args })),
      };
    }
    case 'delete-nft-rule': {
      const rules = findings.map((f) => ({ f, d: f.detail as { family: string; table: string; chain: string; handle: string } }));
      return {
        ...base,
        summary: `${node}: delete ${rules.length} nftables rule(s) dropping vxlan or pod traffic`,
        steps: uniqueBy(rules, ({ d }) => `${d.family} ${d.table} ${d.chain} ${d.handle}`).map(({ f, d }) => exec(['nft', 'delete', 'rule', d.family, d.table, d.chain, 'handle', d.handle], `remove: ${f.summary}`)),
        // A vxlan drop must be gone from its chain whatever its handle; another drop, by its handle.
        postcondition: [
          ...uniqueBy(rules.filter(({ f }) => f.kind === 'vxlan-blocked'), ({ d }) => `${d.family} ${d.table} ${d.chain}`).map(({ d }): Expectation => ({ kind: 'no-nft-vxlan-drop', node: node!, family: d.family, table: d.table, chain: d.chain })),
          ...rules.filter(({ f }) => f.kind !== 'vxlan-blocked').map(({ d }): Expectation => ({ kind: 'no-nft-rule', node: node!, ...d })),
        ],
      };
    }
    case 'forward-policy-accept': {
      const d = first.detail as { binary: string };
      return {
        ...base,
        summary: `${node}: set the FORWARD policy back to ACCEPT`,
        steps: [exec([d.binary, '-w', '-P', 'FORWARD', 'ACCEPT'], first.summary)],
        postcondition: [{ kind: 'forward-policy', node: node!, binary: d.binary, policy: 'ACCEPT' }],
      };
    }
    case 'enable-ip-forward':
      return {
        ...base,
        summary: `${node}: turn net.ipv4.ip_forward back on`,
        steps: [exec(['sysctl', '-w', 'net.ipv4.ip_forward=1'], first.summary)],
        postcondition: [{ kind: 'sysctl', node: node!, key: 'net.ipv4.ip_forward', value: '1' }],
      };
    case 'enable-interface-forwarding': {
      const sysctls = uniqueBy(
        findings.map((f) => f.detail as { key: string; path: string }),
        (d) => d.key,
      );
      return {
        ...base,
        summary: `${node}: turn forwarding back on for ${sysctls.map((d) => d.path.split('/')[3]).join(', ')}`,
        steps: sysctls.map((d) => exec(['sysctl', '-w', `${d.path}=1`], first.summary)),
        postcondition: sysctls.map((d): Expectation => ({ kind: 'sysctl', node: node!, key: d.key, value: '1' })),
      };
    }
    case 'delete-ip-rule': {
      const rules = uniqueBy(
        findings.map((f) => f.detail as { priority: number; selector: string[] }),
        (d) => `${d.priority} ${d.selector.join(' ')}`,
      );
      return {
        ...base,
        summary: `${node}: delete ${rules.length} policy routing rule(s) diverting pod traffic from the main table`,
        steps: rules.map((d) => exec(['ip', 'rule', 'del', 'priority', String(d.priority), ...d.selector], first.summary)),
        postcondition: rules.map((d): Expectation => ({ kind: 'no-ip-rule', node: node!, priority: d.priority, selector: d.selector })),
      };
    }
    case 'set-vxlan-device': {
      const want = Object.assign({}, ...findings.map((f) => f.detail)) as { up?: boolean; mtu?: number; learning?: boolean };
      const steps = [
        ...(want.mtu ? [exec(['ip', 'link', 'set', 'flannel.1', 'mtu', String(want.mtu)], 'MTU from subnet.env (FLANNEL_MTU)')] : []),
        ...(want.learning === false ? [exec(['ip', 'link', 'set', 'flannel.1', 'type', 'vxlan', 'nolearning'], 'flanneld makes flannel.1 with learning off')] : []),
        ...(want.up ? [exec(['ip', 'link', 'set', 'flannel.1', 'up'], first.summary)] : []),
      ];
      return {
        ...base,
        summary: `${node}: set flannel.1 back as flanneld makes it (${steps.map((s) => (s.kind === 'exec' ? s.argv.slice(4).join(' ') : '')).join('; ')})`,
        steps,
        postcondition: [{ kind: 'vxlan-device', node: node!, ...want }],
      };
    }
    case 'scale-dns': {
      const replicas = (first.detail as { replicas: number }).replicas;
      return {
        ...base,
        summary: `scale CoreDNS back to ${replicas} replicas`,
        steps: [
          { kind: 'patch', resource: 'Deployment', namespace: 'kube-system', name: 'coredns', patchType: 'merge', body: { spec: { replicas } }, why: first.summary },
          { kind: 'wait-rollout', namespace: 'kube-system', name: 'coredns', timeoutMs: 60_000, why: 'the new DNS pods ready' },
        ],
        postcondition: [{ kind: 'dns-ready', replicas }],
        // The EndpointSlice controller follows the rollout.
        settleMs: 5_000,
      };
    }
    case 'recreate-cni0':
      return { ...base, summary: `${node}: recreate cni0 from subnet.env and re-attach every pod veth in hairpin mode`, ...(await cni0Plan(node!, findings, obs, access)) };
    case 'restore-vtep-annotation': {
      const mac = (first.detail as { mac: string }).mac;
      const apiNode = obs.nodes.find((n) => n.metadata!.name === node);
      const current = JSON.parse(apiNode?.metadata?.annotations?.[BACKEND_DATA] ?? '{}') as Record<string, unknown>;
      const value = JSON.stringify({ ...current, VNI: current.VNI ?? 1, VtepMAC: mac });
      return {
        ...base,
        summary: `${node}: set its ${BACKEND_DATA} annotation back to its flannel.1's real MAC; the peers' flanneld re-programs from it`,
        steps: [{ kind: 'patch', resource: 'Node', name: node!, patchType: 'merge', body: { metadata: { annotations: { [BACKEND_DATA]: value } } }, why: first.summary }],
        postcondition: [{ kind: 'vtep-annotation', node: node!, mac }],
      };
    }
    case 'fix-vxlan-peer':
      return { ...base, summary: `${node}: program its vxlan peers as flanneld does (neighbour, FDB and route replaced) and delete FDB and neighbour entries flanneld would not have written`, ...vxlanPeerPlan(node!, findings) };
    case 'fix-pod-routes': {
      const extra = uniqueBy(findings.flatMap((f) => (f.detail as { delete?: string[][] }).delete ?? []), (r) => r.join(' '));
      const local = findings.map((f) => (f.detail as { local?: { dst: string; src: string } }).local).find(Boolean);
      return {
        ...base,
        summary: `${node}: ${[extra.length ? `delete ${extra.length} route(s) into the pod network flanneld does not write` : '', local ? `route ${local.dst} to cni0 again` : ''].filter(Boolean).join('; ')}`,
        steps: [
          ...extra.map((r) => exec(['ip', 'route', 'del', ...r], `not flanneld's: ${r.join(' ')}`)),
          ...(local ? [exec(['ip', 'route', 'replace', local.dst, 'dev', 'cni0', 'proto', 'kernel', 'scope', 'link', 'src', local.src], "the route the kernel adds with cni0's address")] : []),
        ],
        postcondition: [
          ...extra.map((r): Expectation => ({ kind: 'no-route', node: node!, selector: r })),
          ...(local ? [{ kind: 'local-route', node: node!, dst: local.dst, dev: 'cni0' } as const] : []),
        ],
      };
    }
    case 'restore-flannel-rules':
      return { ...base, summary: `${node}: restore flanneld's ${findings.map((f) => (f.detail as { table: string }).table).join(' and ')} chains and their jumps as flanneld writes them`, ...flannelRulesPlan(node!, findings, obs) };
    case 'restart-flanneld':
      return {
        ...base,
        summary: `${node}: restart flanneld so it re-creates flannel.1 and re-programs every peer`,
        steps: [{ kind: 'restart', node: node!, component: 'flanneld', why: first.summary }],
        postcondition: [{ kind: 'link', node: node!, ifname: 'flannel.1' }],
        settleMs: 15_000,
      };
    case 'replace-pod': {
      const pods = uniqueBy(
        findings.flatMap((f) => (f.detail as { pods: PodToReplace[] }).pods),
        (p) => p.uid,
      );
      const controllerPods = (uid: string) => [...obs.probePods, ...obs.dnsPods].filter((p) => controllerOf(p)?.uid === uid && !p.metadata?.deletionTimestamp).length;
      return {
        ...base,
        summary: `${node}: delete ${pods.map((p) => `${p.namespace}/${p.name}`).join(', ')}, whose network is gone, so ${pods.length === 1 ? 'its controller makes it' : 'their controllers make them'} again with a new sandbox (what kubectl delete pod does)`,
        steps: pods.map((p): Step => ({ kind: 'delete-pod', namespace: p.namespace, name: p.name, uid: p.uid, why: `${p.controller.kind} ${p.controller.name} makes a new pod, whose sandbox gets its network from a CNI ADD` })),
        postcondition: pods.map((p): Expectation => ({ kind: 'pod-replaced', namespace: p.namespace, name: p.name, uid: p.uid, controller: p.controller, pods: controllerPods(p.controller.uid) })),
        // The kubelet tears the old sandbox down, the controller and the scheduler place a new pod, the
        // kubelet starts it: a second or two on a lab. Plans of a round are judged together until the
        // longest settle time, so this one bounds how long the others wait too.
        settleMs: 30_000,
      };
    }
    case 'move-dns': {
      const d = first.detail as { avoid: string[]; oldIps: string[] };
      const affinity = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'NotIn', values: d.avoid }] }] } } };
      const nodes = obs.nodes.map((n) => n.metadata!.name!).filter((n) => !d.avoid.includes(n));
      return {
        ...base,
        summary: `move CoreDNS off ${d.avoid.join(', ')} and keep it off; clear conntrack entries still pointing at the old DNS pods`,
        steps: [
          {
            kind: 'patch',
            resource: 'Deployment',
            namespace: 'kube-system',
            name: 'coredns',
            patchType: 'strategic',
            body: { spec: { template: { spec: { nodeSelector: { 'kubernetes.io/hostname': null }, affinity } } } },
            why: first.summary,
          },
          { kind: 'wait-rollout', namespace: 'kube-system', name: 'coredns', timeoutMs: 30_000, why: 'new DNS pods ready before the old conntrack entries go' },
          ...nodes.flatMap((n) =>
            d.oldIps.map((ip) => execStep(n, ['conntrack', '-D', '-p', 'udp', '--reply-src', ip], `stale DNS conntrack entries to ${ip}`, true)),
          ),
        ],
        postcondition: [{ kind: 'dns-off', nodes: d.avoid }],
        // The rollout is waited for; the EndpointSlice controller follows it.
        settleMs: 5_000,
      };
    }
  }
}

/**
 * The peers as flanneld v0.28.9 programs them (vxlan backend, `handleSubnetEvents`): the
 * neighbour, the FDB entry and the route are each *replaced* (netlink NeighSet/RouteReplace).
 * `bridge fdb append` would be wrong: for a MAC that already has an entry the kernel accepts it
 * and changes nothing. FDB entries flanneld would not have written for a peer's address (another
 * MAC to the same dst) are deleted as its DelFDB does, before the peers are programmed.
 */
function vxlanPeerPlan(node: string, findings: Finding[]): Pick<RepairPlan, 'steps' | 'postcondition'> {
  const exec = (argv: string[], why: string, allowFailure = false) => execStep(node, argv, why, allowFailure);
  const steps: Step[] = [];
  const postcondition: Expectation[] = [];
  for (const f of findings.filter((f) => f.kind === 'vxlan-fdb-stale')) {
    for (const e of (f.detail as { stale: { mac: string; dst: string }[] }).stale) {
      steps.push(exec(['bridge', 'fdb', 'del', e.mac, 'dev', 'flannel.1', 'dst', e.dst, 'self'], `an entry flanneld would not have written: ${e.mac} dst ${e.dst}`, true));
      postcondition.push({ kind: 'no-fdb', node, dev: 'flannel.1', mac: e.mac, dst: e.dst });
    }
  }
  for (const f of findings.filter((f) => f.kind === 'vxlan-neighbour-stray')) {
    for (const ip of (f.detail as { strayNeighbours: string[] }).strayNeighbours) {
      steps.push(exec(['ip', 'neigh', 'del', ip, 'dev', 'flannel.1'], `a neighbour flanneld would not have written: ${ip}`, true));
      postcondition.push({ kind: 'no-neighbour', node, dev: 'flannel.1', ip });
    }
  }
  for (const f of uniqueBy(findings.filter((f) => f.detail && 'peer' in f.detail), (f) => `${f.kind}|${(f.detail as unknown as PeerDetail).peer}`)) {
    const p = f.detail as unknown as PeerDetail;
    if (f.kind === 'vxlan-neighbour-wrong') {
      steps.push(exec(['ip', 'neigh', 'replace', p.vtepIp, 'lladdr', p.mac, 'dev', 'flannel.1', 'nud', 'permanent'], f.summary));
      postcondition.push({ kind: 'neighbour', node, dev: 'flannel.1', ip: p.vtepIp, mac: p.mac });
    }
    if (f.kind === 'vxlan-fdb-missing') {
      steps.push(exec(['bridge', 'fdb', 'replace', p.mac, 'dev', 'flannel.1', 'dst', p.ip, 'self', 'permanent'], f.summary));
      postcondition.push({ kind: 'fdb', node, dev: 'flannel.1', mac: p.mac, dst: p.ip });
    }
    if (f.kind === 'vxlan-route-missing') {
      steps.push(exec(['ip', 'route', 'replace', p.podCIDR, 'via', p.vtepIp, 'dev', 'flannel.1', 'onlink'], f.summary));
      postcondition.push({ kind: 'route', node, dst: p.podCIDR, gateway: p.vtepIp, dev: 'flannel.1' });
    }
  }
  return { steps, postcondition };
}

/**
 * flanneld's chains as its ensure loop writes them: in one `iptables-restore --noflush` per table,
 * as flanneld applies its own (its resync checks each rule, then rewrites them all when one is
 * missing: commands run one by one would let it see the chain half written and interleave its
 * rewrite with ours). The chain is declared (created, or emptied) and its rules appended in order
 * (flanneld itself re-creates missing rules but leaves extra and misordered ones), the jump
 * appended when missing (flanneld's -A), or moved before the first rule that ends pod traffic
 * ahead of it. Only flanneld's own chains and jump are touched, never another program's rules.
 */
function flannelRulesPlan(node: string, findings: Finding[], obs: ClusterObservation): Pick<RepairPlan, 'steps' | 'postcondition'> {
  const o = obs.state.get(node);
  const tables = new Set(findings.map((f) => (f.detail as { table: string }).table));
  const diffs = o ? flannelChainDiffs(o).filter((d) => tables.has(d.expected.table)) : [];
  const steps = diffs.map((d): Step => {
    const { table, chain, from, jump, rules } = d.expected;
    const lines = [`*${table}`];
    const why: string[] = [];
    if (d.chainMissing || d.missing.length || d.extra.length || d.misordered) {
      lines.push(`:${chain} - [0:0]`, ...rules.map((r) => `-A ${chain} ${ruleText(r)}`));
      why.push(`${chain} written again (${[d.chainMissing ? 'chain missing' : '', d.missing.length ? 'rules missing' : '', d.extra.length ? 'rules flanneld does not write' : '', d.misordered ? 'out of order' : ''].filter(Boolean).join(', ')})`);
    }
    if (d.jumpMissing) {
      lines.push(`-A ${from} ${ruleText(jump)}`);
      why.push(`flanneld's jump appended to ${from}`);
    } else if (d.preempting.length) {
      const copies = o!.iptables.tables[table]?.[from]?.rules.filter((r) => r.args.join(' ') === jump.join(' ')).length ?? 1;
      lines.push(...Array.from({ length: copies }, () => `-D ${from} ${ruleText(jump)}`), `-I ${from} ${d.preempting[0]!.position} ${ruleText(jump)}`);
      why.push(`flanneld's jump moved ahead of ${d.preempting[0]!.text}, which ends pod traffic in ${from} first`);
    }
    return { ...execStep(node, ['iptables-restore', '--noflush', '--wait'], `${why.join('; ')}: one transaction, as flanneld applies its rules`), input: `${[...lines, 'COMMIT'].join('\n')}\n` };
  });
  return { steps, postcondition: diffs.map((d): Expectation => ({ kind: 'flannel-rules', node, table: d.expected.table })) };
}

/**
 * cni0 as the bridge plugin made it: the gateway and MTU from subnet.env, the old MAC kept
 * (read from a pod's neighbour entry for the gateway) so no pod waits for its ARP entry to
 * expire, and every pod veth enslaved in hairpin mode. Never a new pod: a CNI ADD would
 * heal cni0 itself and hide what was repaired.
 */
async function cni0Plan(node: string, findings: Finding[], obs: ClusterObservation, access: ClusterAccess): Promise<Pick<RepairPlan, 'steps' | 'postcondition'>> {
  const o = obs.state.get(node);
  const detail = findings[0]!.detail as { gateway?: string; mtu?: number; veths: string[] };
  if (!o || !detail.gateway) return { steps: [], postcondition: [] };
  const gatewayIp = detail.gateway.split('/')[0]!;
  const mtu = detail.mtu || 1450;
  const exec = (argv: string[], why: string) => execStep(node, argv, why);
  const steps: Step[] = [];
  const cni0 = o.links.find((l) => l.ifname === 'cni0');
  const mac = cni0 ? undefined : await gatewayMacSeenByPods(node, gatewayIp, obs, access);
  if (!cni0) steps.push(exec(['ip', 'link', 'add', 'cni0', ...(mac ? ['address', mac] : []), 'type', 'bridge'], mac ? `recreate cni0 with its old MAC ${mac}, which the pods still have for ${gatewayIp}` : 'recreate cni0'));
  if (!cni0 || cni0.mtu !== mtu) steps.push(exec(['ip', 'link', 'set', 'cni0', 'mtu', String(mtu)], 'MTU from subnet.env'));
  if (!ipv4Of(o.addresses, 'cni0').includes(detail.gateway)) steps.push(exec(['ip', 'addr', 'replace', detail.gateway, 'dev', 'cni0'], 'gateway from subnet.env (FLANNEL_SUBNET)'));
  if (!cni0?.flags.includes('UP')) steps.push(exec(['ip', 'link', 'set', 'cni0', 'up'], 'bring the bridge up'));
  for (const veth of detail.veths) {
    const link = o.links.find((l) => l.ifname === veth);
    if (link?.master !== 'cni0') steps.push(exec(['ip', 'link', 'set', veth, 'master', 'cni0'], 're-attach the pod veth'));
    if (link?.master !== 'cni0' || link.linkinfo?.info_slave_data?.hairpin !== true) steps.push(exec(['bridge', 'link', 'set', 'dev', veth, 'hairpin', 'on'], 'hairpinMode from the conflist'));
    if (!link?.flags.includes('UP')) steps.push(exec(['ip', 'link', 'set', veth, 'up'], 'bring the veth up'));
  }
  const postcondition: Expectation[] = [
    { kind: 'bridge', node, name: 'cni0', address: detail.gateway, mtu, ...(mac ? { mac } : {}) },
    ...detail.veths.map((ifname): Expectation => ({ kind: 'bridge-port', node, ifname, bridge: 'cni0' })),
  ];
  return { steps, postcondition };
}

async function gatewayMacSeenByPods(node: string, gatewayIp: string, obs: ClusterObservation, access: ClusterAccess): Promise<string | undefined> {
  for (const pod of podsOn([...obs.probePods, ...obs.dnsPods], node)) {
    const r = await access.pod(podHandle(pod)).exec(['ip', '-j', 'neigh', 'show', gatewayIp], { check: false });
    const mac = parseNeighbours(r.stdout).find((n) => n.lladdr)?.lladdr;
    if (mac) return mac;
  }
  return undefined;
}

function uniqueBy<T>(items: T[], key: (t: T) => string): T[] {
  const seen = new Set<string>();
  return items.filter((i) => !seen.has(key(i)) && seen.add(key(i)));
}
