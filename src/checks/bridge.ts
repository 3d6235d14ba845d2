import { type Finding } from '../findings.js';
import { ipv4Of } from '../observe/ip.js';
import { type ClusterObservation } from '../observe/cluster.js';
import { podsOn, podVeths } from './cluster-facts.js';

/** cni0, the bridge the CNI bridge plugin made: present, addressed and sized as subnet.env says, with every pod veth enslaved and in hairpin mode. */
export function checkBridge(obs: ClusterObservation): Finding[] {
  const findings: Finding[] = [];
  for (const [node, o] of obs.state) {
    const gateway = o.subnetEnv?.FLANNEL_SUBNET;
    const mtu = Number(o.subnetEnv?.FLANNEL_MTU);
    const veths = podVeths(o);
    const cni0 = o.links.find((l) => l.ifname === 'cni0');
    const pods = podsOn([...obs.probePods, ...obs.dnsPods], node).length;
    if (!cni0) {
      // No pod yet is not a fault: the bridge plugin creates cni0 on the first pod ADD.
      if (!veths.length && !pods) continue;
      findings.push({
        kind: 'cni0-missing',
        severity: 'critical',
        node,
        summary: `${node}: bridge cni0 is missing; ${veths.length} pod veth(s) have no bridge`,
        evidence: [
          { source: `${node}: ip -j -d link show`, observed: 'no cni0', expected: `bridge cni0 with ${gateway ?? 'the gateway from subnet.env'}${mtu ? `, mtu ${mtu}` : ''}` },
          { source: `${node}: ip -j -d link show`, observed: veths.map((v) => `${v.ifname} master=${v.master ?? 'none'}`) },
        ],
        repair: 'recreate-cni0',
        detail: { gateway, mtu, veths: veths.map((v) => v.ifname) },
      });
      continue;
    }
    const problems: string[] = [];
    const addresses = ipv4Of(o.addresses, 'cni0');
    if (gateway && !addresses.includes(gateway)) problems.push(`addresses ${JSON.stringify(addresses)}, expected ${gateway}`);
    if (mtu && cni0.mtu !== mtu) problems.push(`mtu ${cni0.mtu}, expected ${mtu}`);
    if (!cni0.flags.includes('UP')) problems.push('link is down');
    if (problems.length) {
      findings.push({
        kind: 'cni0-misconfigured',
        severity: 'critical',
        node,
        summary: `${node}: cni0 ${problems.join('; ')}`,
        evidence: [{ source: `${node}: ip -j addr/link show cni0`, observed: { addresses, mtu: cni0.mtu, flags: cni0.flags }, expected: { addresses: [gateway], mtu, flags: ['UP'] } }],
        repair: 'recreate-cni0',
        detail: { gateway, mtu, veths: veths.map((v) => v.ifname) },
      });
    }
    const orphans = veths.filter((v) => v.master !== 'cni0');
    if (orphans.length) {
      findings.push({
        kind: 'veth-orphaned',
        severity: 'critical',
        node,
        summary: `${node}: ${orphans.length} pod veth(s) not attached to cni0: ${orphans.map((v) => v.ifname).join(', ')}`,
        evidence: [{ source: `${node}: ip -j -d link show`, observed: orphans.map((v) => ({ ifname: v.ifname, master: v.master ?? null })), expected: 'master cni0' }],
        repair: 'recreate-cni0',
        detail: { gateway, mtu, veths: veths.map((v) => v.ifname) },
      });
    }
    const down = veths.filter((v) => v.master === 'cni0' && !v.flags.includes('UP'));
    if (down.length) {
      findings.push({
        kind: 'veth-down',
        severity: 'critical',
        node,
        summary: `${node}: pod veth(s) down on cni0: ${down.map((v) => v.ifname).join(', ')}: their pods are cut off`,
        evidence: [{ source: `${node}: ip -j -d link show`, observed: down.map((v) => ({ ifname: v.ifname, flags: v.flags })), expected: 'UP' }],
        repair: 'recreate-cni0',
        detail: { gateway, mtu, veths: veths.map((v) => v.ifname) },
      });
    }
    const noHairpin = veths.filter((v) => v.master === 'cni0' && v.linkinfo?.info_slave_data?.hairpin === false);
    if (noHairpin.length) {
      findings.push({
        kind: 'hairpin-off',
        severity: 'warning',
        node,
        summary: `${node}: hairpin mode off on ${noHairpin.map((v) => v.ifname).join(', ')} (the conflist asks for hairpinMode: a pod cannot reach itself through a Service)`,
        evidence: [{ source: `${node}: ip -j -d link show`, observed: noHairpin.map((v) => ({ ifname: v.ifname, hairpin: false })), expected: { hairpin: true } }],
        repair: 'recreate-cni0',
        detail: { gateway, mtu, veths: veths.map((v) => v.ifname) },
      });
    }
  }
  return findings;
}
