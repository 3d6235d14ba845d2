import { controllerOf, podVethShortfall } from '../checks/bridge.js';
import { nodeFacts, VXLAN_PORT } from '../checks/cluster-facts.js';
import { nftRules, nftVxlanDrops } from '../checks/firewall.js';
import { flannelChainDiffs, ruleText } from '../checks/flannel-rules.js';
import { routeSelector, ruleSelector } from '../checks/routing.js';
import { isReady } from '../kube/client.js';
import { type ClusterObservation } from '../observe/cluster.js';
import { ipv4Of } from '../observe/ip.js';
import { type IptablesRule } from '../observe/iptables.js';
import { type NodeObservation } from '../observe/node.js';

/**
 * One thing a repair promises to be true afterwards, as data. Each is read back from a fresh
 * observation of the cluster: a repair whose commands exit 0 but change nothing shows as such.
 */
export type Expectation =
  | { kind: 'sysctl'; node: string; key: string; value: string }
  /** The bridge exists with this address and MTU (and MAC, when the repair chose one), and is up. */
  | { kind: 'bridge'; node: string; name: string; address: string; mtu: number; mac?: string }
  /** A pod veth enslaved to the bridge, in hairpin mode, up. */
  | { kind: 'bridge-port'; node: string; ifname: string; bridge: string }
  /** The FDB entry for this MAC on the device sends to dst, and only there. */
  | { kind: 'fdb'; node: string; dev: string; mac: string; dst: string }
  | { kind: 'no-fdb'; node: string; dev: string; mac: string; dst: string }
  | { kind: 'no-neighbour'; node: string; dev: string; ip: string }
  /** No route matching this `ip route del` selector (type, dst, via, dev, metric). */
  | { kind: 'no-route'; node: string; selector: string[] }
  /** The route to dst is a plain route to the device (no gateway), as the kernel adds for an address. */
  | { kind: 'local-route'; node: string; dst: string; dev: string }
  /** flanneld's chain and jump in this table are as flanneld writes them (flannel-rules.ts). */
  | { kind: 'flannel-rules'; node: string; table: string }
  /** A PERMANENT neighbour entry: ip -> mac on the device. */
  | { kind: 'neighbour'; node: string; dev: string; ip: string; mac: string }
  /** A route to dst via gateway on the device, onlink. */
  | { kind: 'route'; node: string; dst: string; gateway: string; dev: string }
  | { kind: 'link'; node: string; ifname: string }
  /** No rule with these arguments in the chain, read from the tables `binary` manages. */
  | { kind: 'no-iptables-rule'; node: string; binary: string; table: string; chain: string; args: string[] }
  | { kind: 'no-nft-vxlan-drop'; node: string; family: string; table: string; chain: string }
  /** The native nftables rule with this handle is gone. */
  | { kind: 'no-nft-rule'; node: string; family: string; table: string; chain: string; handle: string }
  /** flannel.1 is up, with this MTU and learning off (what is named). */
  | { kind: 'vxlan-device'; node: string; up?: boolean; mtu?: number; learning?: boolean }
  /** No policy routing rule with this priority and selector. */
  | { kind: 'no-ip-rule'; node: string; priority: number; selector: string[] }
  | { kind: 'forward-policy'; node: string; binary: string; policy: string }
  /** The Node's flannel backend-data annotation names this VtepMAC. */
  | { kind: 'vtep-annotation'; node: string; mac: string }
  /** The kube-dns Service has ready endpoints, none on these nodes. */
  | { kind: 'dns-off'; nodes: string[] }
  /** The coredns Deployment asks for this many replicas and the kube-dns Service has a ready endpoint. */
  | { kind: 'dns-ready'; replicas: number }
  /**
   * The pod with this uid is gone and its controller runs as many pods as before, each Ready with
   * an address on a node that has a pod veth for every pod it runs (the new sandbox's network).
   */
  | { kind: 'pod-replaced'; namespace: string; name: string; uid: string; controller: { kind: string; name: string; uid: string }; pods: number };

export interface Unmet {
  expected: Expectation;
  /** What the observation shows instead. */
  observed: unknown;
}

/** The parts of a post-condition that do not hold in this observation, with what was seen instead. */
export function unmet(postcondition: Expectation[], obs: ClusterObservation): Unmet[] {
  return postcondition.flatMap((expected) => {
    const { holds, observed } = evaluate(expected, obs);
    return holds ? [] : [{ expected, observed }];
  });
}

interface Reading {
  holds: boolean;
  observed: unknown;
}

function evaluate(e: Expectation, obs: ClusterObservation): Reading {
  if (e.kind === 'dns-off') {
    const ready = obs.dnsEndpoints.flatMap((s) => s.endpoints ?? []).filter((x) => x.conditions?.ready);
    return { holds: ready.length > 0 && ready.every((x) => !e.nodes.includes(x.nodeName ?? '')), observed: ready.map((x) => `${x.addresses.join(',')} on ${x.nodeName ?? '?'}`) };
  }
  if (e.kind === 'dns-ready') {
    const ready = obs.dnsEndpoints.flatMap((s) => s.endpoints ?? []).filter((x) => x.conditions?.ready);
    const replicas = obs.dnsDeployment?.spec?.replicas;
    return { holds: replicas === e.replicas && ready.length > 0, observed: { replicas: replicas ?? null, readyEndpoints: ready.length } };
  }
  if (e.kind === 'pod-replaced') return podReplaced(e, obs);
  if (e.kind === 'vtep-annotation') {
    const node = obs.nodes.find((n) => n.metadata?.name === e.node);
    const annotated = node ? nodeFacts(node, undefined).annotatedVtepMac : undefined;
    return { holds: annotated === e.mac.toLowerCase(), observed: annotated ?? null };
  }
  const o = obs.state.get(e.node);
  if (!o) return { holds: false, observed: `${e.node} not observed${obs.unread?.[e.node] ? ` (could not read it: ${obs.unread[e.node]})` : ''}` };
  return evaluateOnNode(e, o);
}

function podReplaced(e: Extract<Expectation, { kind: 'pod-replaced' }>, obs: ClusterObservation): Reading {
  const pods = [...obs.probePods, ...obs.dnsPods];
  const old = pods.find((p) => p.metadata?.uid === e.uid);
  const owned = pods.filter((p) => controllerOf(p)?.uid === e.controller.uid && !p.metadata?.deletionTimestamp);
  const ready = owned.filter((p) => isReady(p) && p.status?.podIP);
  const nodesShort = [...new Set(ready.map((p) => p.spec?.nodeName ?? ''))].filter((n) => podVethShortfall(obs, n) > 0);
  return {
    holds: !old && ready.length >= e.pods && !nodesShort.length,
    observed: { oldPod: old ? (old.metadata?.deletionTimestamp ? 'terminating' : 'present') : 'gone', ready: ready.map((p) => `${p.metadata!.name} on ${p.spec?.nodeName ?? '?'}`), nodesShort },
  };
}

function evaluateOnNode(e: Exclude<Expectation, { kind: 'dns-off' | 'dns-ready' | 'vtep-annotation' | 'pod-replaced' }>, o: NodeObservation): Reading {
  switch (e.kind) {
    case 'sysctl': {
      const value = o.sysctls[e.key];
      return { holds: value === e.value, observed: value ?? null };
    }
    case 'bridge': {
      const link = o.links.find((l) => l.ifname === e.name);
      if (!link) return { holds: false, observed: 'missing' };
      const addresses = ipv4Of(o.addresses, e.name);
      const holds = addresses.includes(e.address) && link.mtu === e.mtu && link.flags.includes('UP') && (!e.mac || link.address?.toLowerCase() === e.mac.toLowerCase());
      return { holds, observed: { addresses, mtu: link.mtu, up: link.flags.includes('UP'), mac: link.address ?? null } };
    }
    case 'bridge-port': {
      const link = o.links.find((l) => l.ifname === e.ifname);
      if (!link) return { holds: false, observed: 'missing' };
      const hairpin = link.linkinfo?.info_slave_data?.hairpin ?? null;
      return { holds: link.master === e.bridge && hairpin === true && link.flags.includes('UP'), observed: { master: link.master ?? null, hairpin, up: link.flags.includes('UP') } };
    }
    case 'fdb': {
      const dsts = o.fdb.filter((f) => f.ifname === e.dev && f.mac.toLowerCase() === e.mac.toLowerCase()).map((f) => f.dst ?? null);
      return { holds: dsts.length === 1 && dsts[0] === e.dst, observed: dsts };
    }
    case 'no-fdb': {
      const present = o.fdb.some((f) => f.ifname === e.dev && f.mac.toLowerCase() === e.mac.toLowerCase() && f.dst === e.dst);
      return { holds: !present, observed: present ? `${e.mac} dst ${e.dst}` : null };
    }
    case 'neighbour': {
      const n = o.neighbours.find((x) => x.dev === e.dev && x.dst === e.ip);
      return { holds: n?.lladdr?.toLowerCase() === e.mac.toLowerCase() && n.state.includes('PERMANENT'), observed: n ? { lladdr: n.lladdr ?? null, state: n.state } : null };
    }
    case 'no-neighbour': {
      const n = o.neighbours.find((x) => x.dev === e.dev && x.dst === e.ip && x.state.includes('PERMANENT'));
      return { holds: !n, observed: n ? { lladdr: n.lladdr ?? null, state: n.state } : null };
    }
    case 'no-route': {
      const same = o.routes.filter((r) => routeSelector(r).join(' ') === e.selector.join(' '));
      return { holds: !same.length, observed: same.length ? e.selector.join(' ') : null };
    }
    case 'local-route': {
      const r = o.routes.find((x) => x.dst === e.dst && !x.metric);
      return { holds: (r?.type ?? 'unicast') === 'unicast' && r?.dev === e.dev && !r.gateway, observed: r ? { type: r.type ?? 'unicast', gateway: r.gateway ?? null, dev: r.dev ?? null } : null };
    }
    case 'flannel-rules': {
      const diff = flannelChainDiffs(o).find((d) => d.expected.table === e.table);
      return {
        holds: !diff,
        observed: diff ? { missing: diff.missing.map(ruleText), extra: diff.extra.map((r) => r.text), misordered: diff.misordered, jumpMissing: diff.jumpMissing, preempting: diff.preempting.map((r) => r.text) } : null,
      };
    }
    case 'route': {
      const r = o.routes.find((x) => x.dst === e.dst && !x.metric);
      return { holds: (r?.type ?? 'unicast') === 'unicast' && r?.gateway === e.gateway && r.dev === e.dev && r.flags.includes('onlink'), observed: r ? { gateway: r.gateway ?? null, dev: r.dev ?? null, flags: r.flags } : null };
    }
    case 'link': {
      const link = o.links.find((l) => l.ifname === e.ifname);
      return { holds: !!link, observed: link ? { ifname: link.ifname, address: link.address ?? null } : 'missing' };
    }
    case 'no-iptables-rule': {
      const same = identicalRules(o, e);
      return { holds: !same.length, observed: same.map((r) => r.text) };
    }
    case 'no-nft-vxlan-drop': {
      const drops = nftVxlanDrops(o.nftRuleset, o.iptables.flavour === 'nf_tables').filter((r) => r.family === e.family && r.table === e.table && r.chain === e.chain);
      return { holds: !drops.length, observed: drops.map((r) => r.text) };
    }
    case 'no-nft-rule': {
      const rule = nftRules(o.nftRuleset, o.iptables.flavour === 'nf_tables').find((r) => r.family === e.family && r.table === e.table && r.chain === e.chain && r.handle === e.handle);
      return { holds: !rule, observed: rule?.text ?? null };
    }
    case 'vxlan-device': {
      const link = o.links.find((l) => l.ifname === 'flannel.1');
      if (!link) return { holds: false, observed: 'missing' };
      const up = link.flags.includes('UP');
      const learning = link.linkinfo?.info_data?.learning;
      const holds = (e.up === undefined || up === e.up) && (e.mtu === undefined || link.mtu === e.mtu) && (e.learning === undefined || learning === e.learning);
      return { holds, observed: { up, mtu: link.mtu, learning: learning ?? null } };
    }
    case 'no-ip-rule': {
      const same = (o.rules ?? []).filter((r) => r.priority === e.priority && JSON.stringify(ruleSelector(r)) === JSON.stringify(e.selector));
      return { holds: !same.length, observed: same.length ? `${e.priority}: ${e.selector.join(' ')}` : null };
    }
    case 'forward-policy': {
      const policy = o.iptables.tables.filter?.FORWARD?.policy;
      return { holds: policy === e.policy, observed: policy ?? null };
    }
  }
}

/**
 * The rules in a node's chain with exactly these arguments, read from the tables `binary`
 * manages (the checks name the binary after the tables they read: the node's own flavour, or
 * the legacy tables beside nft).
 */
export function identicalRules(o: NodeObservation, rule: { binary: string; table: string; chain: string; args: string[] }): IptablesRule[] {
  const tables = rule.binary === 'iptables' || o.iptables.flavour === 'legacy' ? o.iptables.tables : o.iptables.legacy;
  return (tables?.[rule.table]?.[rule.chain]?.rules ?? []).filter((r) => JSON.stringify(r.args) === JSON.stringify(rule.args));
}

/** An expectation as a person reads it in a plan. */
export function describeExpectation(e: Expectation): string {
  switch (e.kind) {
    case 'sysctl':
      return `${e.node}: ${e.key} = ${e.value}`;
    case 'bridge':
      return `${e.node}: ${e.name} exists with ${e.address}, mtu ${e.mtu}${e.mac ? `, MAC ${e.mac}` : ''}, up`;
    case 'bridge-port':
      return `${e.node}: ${e.ifname} on ${e.bridge}, hairpin on, up`;
    case 'fdb':
      return `${e.node}: fdb ${e.mac} -> dst ${e.dst} on ${e.dev}, and no other dst`;
    case 'no-fdb':
      return `${e.node}: no fdb entry ${e.mac} dst ${e.dst} on ${e.dev}`;
    case 'neighbour':
      return `${e.node}: neighbour ${e.ip} -> ${e.mac} PERMANENT on ${e.dev}`;
    case 'no-neighbour':
      return `${e.node}: no PERMANENT neighbour ${e.ip} on ${e.dev}`;
    case 'no-route':
      return `${e.node}: no route "${e.selector.join(' ')}"`;
    case 'local-route':
      return `${e.node}: route ${e.dst} dev ${e.dev}`;
    case 'flannel-rules':
      return `${e.node}: flanneld's ${e.table} chain and jump as flanneld writes them`;
    case 'route':
      return `${e.node}: route ${e.dst} via ${e.gateway} dev ${e.dev} onlink`;
    case 'link':
      return `${e.node}: ${e.ifname} exists`;
    case 'no-iptables-rule':
      return `${e.node}: no ${e.binary} rule "-A ${e.chain} ${e.args.join(' ')}" in table ${e.table}`;
    case 'no-nft-vxlan-drop':
      return `${e.node}: nothing in nft ${e.family} ${e.table}/${e.chain} drops UDP ${VXLAN_PORT}`;
    case 'forward-policy':
      return `${e.node}: ${e.binary} FORWARD policy ${e.policy}`;
    case 'no-nft-rule':
      return `${e.node}: no nft rule handle ${e.handle} in ${e.family} ${e.table}/${e.chain}`;
    case 'vxlan-device':
      return `${e.node}: flannel.1 ${[e.up ? 'up' : '', e.mtu ? `mtu ${e.mtu}` : '', e.learning === false ? 'learning off' : ''].filter(Boolean).join(', ')}`;
    case 'no-ip-rule':
      return `${e.node}: no policy routing rule "${e.priority}: ${e.selector.join(' ')}"`;
    case 'dns-ready':
      return `coredns at ${e.replicas} replicas, kube-dns with a ready endpoint`;
    case 'vtep-annotation':
      return `Node ${e.node}: VtepMAC annotation ${e.mac}`;
    case 'dns-off':
      return `kube-dns has ready endpoints, none on ${e.nodes.join(', ')}`;
    case 'pod-replaced':
      return `${e.namespace}/${e.name} (uid ${e.uid}) gone; ${e.controller.kind} ${e.controller.name} runs ${e.pods} Ready pod(s), each with its pod veth on its node`;
  }
}
