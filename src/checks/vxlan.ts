import { type Finding } from '../findings.js';
import { type ClusterObservation } from '../observe/cluster.js';
import { type NodeObservation } from '../observe/node.js';
import { BACKEND_DATA, type NodeFacts, nodeFacts, VXLAN_PORT } from './cluster-facts.js';

/**
 * flannel's vxlan programming, compared with the truth: each node's flannel.1 MAC (from its
 * kernel) against its Node annotation, and on every node one PERMANENT neighbour, one FDB
 * entry and one onlink route per peer, pointing at that peer's real flannel.1.
 */
export function checkVxlan(obs: ClusterObservation): Finding[] {
  const findings: Finding[] = [];
  const facts = obs.nodes.map((n) => nodeFacts(n, obs.state.get(n.metadata!.name!)));
  for (const f of facts) {
    const o = obs.state.get(f.name);
    if (!o) continue;
    if (!f.realVtepMac) {
      findings.push({
        kind: 'vxlan-device-missing',
        severity: 'critical',
        node: f.name,
        summary: `${f.name}: flannel.1 is missing (flanneld recreates it, but does not re-program the peers on this node)`,
        evidence: [{ source: `${f.name}: ip -j -d addr show`, observed: 'no flannel.1', expected: 'vxlan flannel.1 id 1 dstport 8472' }],
        repair: 'restart-flanneld',
      });
      continue;
    }
    findings.push(...vxlanDevice(f, o));
    if (f.annotatedVtepMac && f.annotatedVtepMac !== f.realVtepMac) {
      findings.push({
        kind: 'vtep-annotation-mismatch',
        severity: 'critical',
        node: f.name,
        summary: `${f.name}: its ${BACKEND_DATA} annotation says VtepMAC ${f.annotatedVtepMac}, but its flannel.1 has ${f.realVtepMac}: every peer sends its vxlan traffic to a MAC nobody has`,
        evidence: [
          { source: `Node ${f.name} annotation ${BACKEND_DATA}`, observed: f.annotatedVtepMac, expected: f.realVtepMac },
          { source: `${f.name}: ip -j -d addr show flannel.1`, observed: f.realVtepMac },
        ],
        repair: 'restore-vtep-annotation',
        detail: { mac: f.realVtepMac },
      });
    }
  }
  for (const f of facts) {
    const o = obs.state.get(f.name);
    if (!o || !f.realVtepMac) continue;
    const peers = facts.filter((p) => p.name !== f.name && p.vtepIp && p.realVtepMac && p.internalIp);
    for (const p of peers) findings.push(...peerProgramming(f.name, o, p));
    findings.push(...strayEntries(f.name, o, facts.filter((p) => p.name !== f.name)));
  }
  return findings;
}

/**
 * flannel.1 as flanneld v0.28.9 makes it (vxlan backend, `newVXLANDevice`): VNI 1, port 8472,
 * the node's public IP as local address, learning off, the MTU of subnet.env, and up. VNI, port
 * and local address cannot change on a live device: flanneld re-creates it when they differ.
 */
function vxlanDevice(f: NodeFacts, o: NodeObservation): Finding[] {
  const link = o.links.find((l) => l.ifname === 'flannel.1')!;
  const data = link.linkinfo?.info_data ?? {};
  const mtu = Number(o.subnetEnv?.FLANNEL_MTU) || undefined;
  const findings: Finding[] = [];
  if (!link.flags.includes('UP')) {
    findings.push({
      kind: 'vxlan-device-down',
      severity: 'critical',
      node: f.name,
      summary: `${f.name}: flannel.1 is down: the kernel dropped its routes and neighbours with it, and nothing leaves for other nodes' pods`,
      evidence: [{ source: `${f.name}: ip -j -d addr show flannel.1`, observed: link.flags, expected: 'UP' }],
      repair: 'set-vxlan-device',
      detail: { up: true },
    });
  }
  const settable = { ...(mtu && link.mtu !== mtu ? { mtu } : {}), ...(data.learning === true ? { learning: false } : {}) };
  if (Object.keys(settable).length) {
    findings.push({
      kind: 'vxlan-device-misconfigured',
      severity: 'warning',
      node: f.name,
      summary: `${f.name}: flannel.1 has ${[settable.mtu ? `MTU ${link.mtu} (subnet.env says ${mtu})` : '', settable.learning === false ? 'learning on (flanneld turns it off and programs every peer)' : ''].filter(Boolean).join(' and ')}`,
      evidence: [{ source: `${f.name}: ip -j -d addr show flannel.1`, observed: { mtu: link.mtu, learning: data.learning ?? null }, expected: { mtu, learning: false } }],
      repair: 'set-vxlan-device',
      detail: settable,
    });
  }
  const fixed = { id: 1, port: VXLAN_PORT, ...(f.internalIp ? { local: f.internalIp } : {}) };
  const wrong = Object.entries(fixed).filter(([k, v]) => data[k as keyof typeof data] !== undefined && data[k as keyof typeof data] !== v);
  if (wrong.length) {
    findings.push({
      kind: 'vxlan-device-misconfigured',
      severity: 'critical',
      node: f.name,
      summary: `${f.name}: flannel.1 has ${wrong.map(([k]) => `${k} ${String(data[k as keyof typeof data])}`).join(', ')}; flanneld makes it with ${wrong.map(([k, v]) => `${k} ${v}`).join(', ')} and re-creates a device that differs when it starts`,
      evidence: [{ source: `${f.name}: ip -j -d addr show flannel.1`, observed: Object.fromEntries(wrong.map(([k]) => [k, data[k as keyof typeof data]])), expected: Object.fromEntries(wrong) }],
      repair: 'restart-flanneld',
    });
  }
  return findings;
}

function peerProgramming(node: string, o: NonNullable<ReturnType<ClusterObservation['state']['get']>>, p: NodeFacts): Finding[] {
  const out: Finding[] = [];
  const neigh = o.neighbours.find((n) => n.dev === 'flannel.1' && n.dst === p.vtepIp);
  const neighOk = neigh?.lladdr?.toLowerCase() === p.realVtepMac && neigh?.state.includes('PERMANENT');
  if (!neighOk) {
    out.push({
      kind: 'vxlan-neighbour-wrong',
      severity: 'critical',
      node,
      summary: `${node}: the neighbour entry for ${p.name}'s VTEP ${p.vtepIp} is ${neigh ? `${neigh.lladdr ?? 'incomplete'} ${neigh.state.join(',')}` : 'missing'}, but ${p.name}'s flannel.1 has ${p.realVtepMac}`,
      evidence: [{ source: `${node}: ip -j neigh show dev flannel.1`, observed: neigh ? { lladdr: neigh.lladdr ?? null, state: neigh.state } : null, expected: { lladdr: p.realVtepMac, state: ['PERMANENT'] } }],
      repair: 'fix-vxlan-peer',
      detail: peerDetail(p),
    });
  }
  const fdb = o.fdb.find((e) => e.ifname === 'flannel.1' && e.mac.toLowerCase() === p.realVtepMac && e.dst === p.internalIp);
  if (!fdb) {
    out.push({
      kind: 'vxlan-fdb-missing',
      severity: 'critical',
      node,
      summary: `${node}: no flannel.1 FDB entry sends ${p.name}'s VTEP MAC ${p.realVtepMac} to ${p.internalIp}`,
      evidence: [{ source: `${node}: bridge -j fdb show dev flannel.1`, observed: o.fdb.filter((e) => e.ifname === 'flannel.1' && (e.dst === p.internalIp || e.mac.toLowerCase() === p.realVtepMac)).map((e) => `${e.mac} dst ${e.dst}`), expected: `${p.realVtepMac} dst ${p.internalIp} self permanent` }],
      repair: 'fix-vxlan-peer',
      detail: peerDetail(p),
    });
  }
  // flanneld's route has no metric: one at another metric for the same prefix is an extra one (routing.ts).
  const route = o.routes.find((r) => r.dst === p.podCIDR && !r.metric);
  if (!route || route.gateway !== p.vtepIp || route.dev !== 'flannel.1' || !route.flags.includes('onlink')) {
    out.push({
      kind: 'vxlan-route-missing',
      severity: 'critical',
      node,
      summary: `${node}: no route to ${p.name}'s pods ${p.podCIDR} via ${p.vtepIp} dev flannel.1 onlink`,
      evidence: [{ source: `${node}: ip -j route show`, observed: route ?? null, expected: { dst: p.podCIDR, gateway: p.vtepIp, dev: 'flannel.1', flags: ['onlink'] } }],
      repair: 'fix-vxlan-peer',
      detail: peerDetail(p),
    });
  }
  return out;
}

const ZERO_MAC = '00:00:00:00:00:00';

/**
 * flannel.1 entries flanneld would not have written: it writes one FDB entry (VtepMAC -> public
 * IP) and one PERMANENT neighbour (VTEP address -> VtepMAC) per peer, and nothing else (learning
 * is off). Anything more is removed as its DelFDB/DelARP would: an entry for a MAC no peer has
 * (an old VtepMAC; a default all-zeros entry, which sends frames for every unknown MAC somewhere),
 * a PERMANENT neighbour for an address that is no peer's VTEP. A peer's MAC has one destination
 * (the kernel appends only to all-zeros and multicast entries): a wrong one is the peer's entry gone
 * wrong, replaced in place (vxlan-fdb-missing). A peer whose flannel.1 was not observed counts with
 * its annotated MAC, so its entries are never taken for strays.
 */
function strayEntries(node: string, o: NodeObservation, peers: NodeFacts[]): Finding[] {
  const findings: Finding[] = [];
  const known = peers.filter((p) => p.internalIp && (p.realVtepMac ?? p.annotatedVtepMac));
  const written = new Set(known.map((p) => `${p.realVtepMac ?? p.annotatedVtepMac}|${p.internalIp}`));
  const peerMacs = new Set(known.map((p) => p.realVtepMac ?? p.annotatedVtepMac));
  const stray = o.fdb.filter((e) => e.ifname === 'flannel.1' && e.dst && !peerMacs.has(e.mac.toLowerCase()));
  if (stray.length) {
    // Frames for every unknown MAC sent to another host: traffic misdirected.
    const misdirects = stray.filter((e) => e.mac === ZERO_MAC);
    findings.push({
      kind: 'vxlan-fdb-stale',
      severity: misdirects.length ? 'critical' : 'warning',
      node,
      summary: `${node}: ${stray.length} flannel.1 FDB entr${stray.length === 1 ? 'y' : 'ies'} flanneld would not have written: ${stray.map((e) => `${e.mac} dst ${e.dst}${e.mac === ZERO_MAC ? ' (default entry: frames for unknown MACs go there)' : ' (a MAC no peer has)'}`).join(', ')}`,
      evidence: [{ source: `${node}: bridge -j fdb show dev flannel.1`, observed: stray.map((e) => `${e.mac} dst ${e.dst}`), expected: [...written].map((w) => w.replace('|', ' dst ')) }],
      repair: 'fix-vxlan-peer',
      detail: { stale: stray.map((e) => ({ mac: e.mac, dst: e.dst })) },
    });
  }
  const vteps = new Set(peers.map((p) => p.vtepIp).filter(Boolean));
  const neighbours = o.neighbours.filter((n) => n.dev === 'flannel.1' && n.state.includes('PERMANENT') && !vteps.has(n.dst));
  if (neighbours.length) {
    findings.push({
      kind: 'vxlan-neighbour-stray',
      severity: 'warning',
      node,
      summary: `${node}: PERMANENT flannel.1 neighbour(s) for addresses that are no peer's VTEP: ${neighbours.map((n) => `${n.dst} -> ${n.lladdr ?? '?'}`).join(', ')} (flanneld removes a peer's entry when the peer leaves)`,
      evidence: [{ source: `${node}: ip -j neigh show dev flannel.1`, observed: neighbours.map((n) => `${n.dst} lladdr ${n.lladdr ?? '-'} ${n.state.join(',')}`), expected: `PERMANENT entries only for the peers' VTEPs ${[...vteps].join(', ')}` }],
      repair: 'fix-vxlan-peer',
      detail: { strayNeighbours: neighbours.map((n) => n.dst) },
    });
  }
  return findings;
}

/** What fix-vxlan-peer needs to program one peer as flanneld would. */
export interface PeerDetail {
  peer: string;
  vtepIp: string;
  mac: string;
  ip: string;
  podCIDR: string;
}

const peerDetail = (p: NodeFacts): Record<string, unknown> & PeerDetail => ({ peer: p.name, vtepIp: p.vtepIp!, mac: p.realVtepMac!, ip: p.internalIp!, podCIDR: p.podCIDR! });
