import { describe, expect, it } from 'vitest';
import { nftVxlanDrops } from '../../src/checks/firewall.js';
import { ipv4Of, parseAddresses, parseFdb, parseLinks, parseNeighbours, parseRoutes } from '../../src/observe/ip.js';
import { splitArgs } from '../../src/argv.js';
import { parseIptablesSave } from '../../src/observe/iptables.js';
import { fileReadArgv, parseEnvFile, parseFileReads } from '../../src/observe/node.js';
import { parseFpingCount } from '../../src/probes/fping.js';
import { DNS_NAME, DNS_SERVER, nslookupArgv, parseNslookup } from '../../src/probes/probe.js';
import { fixture } from '../support/fixtures.js';

// Raw output captured from a lab node (fd-worker), parsed as the observers parse it.
const raw = (f: string) => fixture('fd-worker', f);

describe('ip -j / bridge -j parsers', () => {
  it('read links with their vxlan and bridge-port details', () => {
    const links = parseLinks(raw('ip-link.json'));
    const vxlan = links.find((l) => l.ifname === 'flannel.1')!;
    expect(vxlan.linkinfo?.info_data).toMatchObject({ id: 1, port: 8472, learning: false, local: '172.18.0.3', link: 'eth0' });
    const veths = links.filter((l) => l.master === 'cni0');
    expect(veths).toHaveLength(3);
    expect(veths.every((v) => v.linkinfo?.info_slave_data?.hairpin === true)).toBe(true);
  });

  it('read addresses, routes, neighbours and FDB entries', () => {
    expect(ipv4Of(parseAddresses(raw('ip-addr.json')), 'cni0')).toEqual(['10.244.2.1/24']);
    expect(parseRoutes(raw('ip-route.json')).find((r) => r.dst === '10.244.0.0/24')).toMatchObject({ gateway: '10.244.0.0', dev: 'flannel.1', flags: ['onlink'] });
    expect(parseNeighbours(raw('ip-neigh.json')).filter((n) => n.dev === 'flannel.1').map((n) => n.state)).toEqual([['PERMANENT'], ['PERMANENT']]);
    expect(parseFdb(raw('bridge-fdb.json')).filter((e) => e.ifname === 'flannel.1').map((e) => e.dst).sort()).toEqual(['172.18.0.2', '172.18.0.4']);
  });

  it('take the empty output of an empty table as no entries, and reject what is not their JSON', () => {
    expect(parseNeighbours('')).toEqual([]);
    expect(() => parseRoutes('{"not":"a list"}')).toThrow(/unexpected ip -j route JSON/);
  });
});

describe('iptables-save parser', () => {
  it('keeps chains, policies and rule order, with quoted comments as one argument', () => {
    const t = parseIptablesSave(raw('iptables-save.txt'));
    expect(t.filter!.FORWARD!.policy).toBe('ACCEPT');
    const flannel = t.filter!.FORWARD!.rules.find((r) => r.target === 'FLANNEL-FWD')!;
    expect(flannel.args).toEqual(['-m', 'comment', '--comment', 'flanneld forward', '-j', 'FLANNEL-FWD']);
    expect(t.filter!['FLANNEL-FWD']!.rules.map((r) => r.args.slice(0, 2))).toEqual([['-s', '10.244.0.0/16'], ['-d', '10.244.0.0/16']]);
    expect(t.nat!['FLANNEL-POSTRTG']!.rules.length).toBeGreaterThan(0);
  });

  it('splits arguments with escaped quotes', () => {
    expect(splitArgs('-A X -m comment --comment "a \\"b\\" c" -j ACCEPT')).toEqual(['-A', 'X', '-m', 'comment', '--comment', 'a "b" c', '-j', 'ACCEPT']);
  });
});

describe('other parsers', () => {
  it('read fping -C 1 -q output, answered or not', () => {
    expect(parseFpingCount('10.244.1.2 : 0.05\n10.244.1.3  : -\nICMP Host Unreachable from x\n')).toEqual(new Map([['10.244.1.2', 0.05], ['10.244.1.3', undefined]]));
  });

  it('read the sysctls, legacy tables and subnet.env from one grep, a missing file being a fact', () => {
    const files = { subnetEnv: '/run/flannel/subnet.env', cniConflist: '', flannelDataDir: '' };
    expect(fileReadArgv(files)).toContain('--include=subnet.env');
    const stdout = [
      '/proc/sys/net/ipv4/conf/flannel.1/forwarding:1',
      '/proc/sys/net/ipv4/conf/all/rp_filter:2',
      '/proc/sys/net/ipv4/ip_forward:1',
      '/proc/net/ip_tables_names:filter',
      '/run/flannel/subnet.env:FLANNEL_NETWORK=10.244.0.0/16',
      '/run/flannel/subnet.env:FLANNEL_SUBNET=10.244.2.1/24',
      '',
    ].join('\n');
    expect(parseFileReads({ stdout, stderr: 'grep: /proc/sys/net/bridge/bridge-nf-call-iptables: No such file or directory\n' }, files)).toEqual({
      sysctls: { 'net.ipv4.conf.flannel.1.forwarding': '1', 'net.ipv4.conf.all.rp_filter': '2', 'net.ipv4.ip_forward': '1' },
      legacyTables: ['filter'],
      subnetEnv: { FLANNEL_NETWORK: '10.244.0.0/16', FLANNEL_SUBNET: '10.244.2.1/24' },
    });
    expect(parseFileReads({ stdout: '/proc/sys/net/ipv4/ip_forward:0\n', stderr: 'grep: /run/flannel/subnet.env: No such file or directory\n' }, files)).toEqual({ sysctls: { 'net.ipv4.ip_forward': '0' }, legacyTables: [] });
    expect(parseEnvFile('FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.2.1/24\n')).toEqual({ FLANNEL_NETWORK: '10.244.0.0/16', FLANNEL_SUBNET: '10.244.2.1/24' });
  });

  it('find native nftables drops of UDP 8472 but leave iptables-nft tables to the iptables check', () => {
    const ruleset = 'table ip filter { # handle 1\n\tchain INPUT { # handle 1\n\t\tmeta l4proto udp udp dport 8472 counter packets 0 bytes 0 drop # handle 5\n\t}\n}\ntable inet fw { # handle 2\n\tchain in { # handle 1\n\t\tudp dport { 53, 8472 } reject # handle 3\n\t}\n}\n';
    expect(nftVxlanDrops(ruleset, true)).toEqual([{ family: 'inet', table: 'fw', chain: 'in', handle: '3', text: 'udp dport { 53, 8472 } reject # handle 3' }]);
    expect(nftVxlanDrops(ruleset, false)).toHaveLength(2);
  });
});

describe('busybox nslookup output', () => {
  // As busybox 1.35 (Debian 12) prints them, from a lab pod.
  const server = 'Server:\t\t10.96.0.10\nAddress:\t10.96.0.10:53\n\n';
  it('reads the reply status and the first A record, never the server\'s own address', () => {
    expect(parseNslookup(`${server}Name:\tkubernetes.default.svc.cluster.local\nAddress: 10.96.0.1\n\n`)).toEqual({ status: 'NOERROR', answer: '10.96.0.1' });
    expect(parseNslookup(`${server}\n`)).toEqual({ status: 'NOERROR' });
    expect(parseNslookup(`${server}** server can't find kubernetes.default.svc.cluster.local: SERVFAIL\n\n`)).toEqual({ status: 'SERVFAIL' });
    expect(parseNslookup(`${server}*** Can't find kubernetes.default.svc.cluster.local: Parse error\n`)).toEqual({ status: 'NOERROR', said: "Can't find kubernetes.default.svc.cluster.local: Parse error" });
  });

  it('says why no reply came: its timeout, and the read error an ICMP unreachable gives', () => {
    const timedOut = ';; connection timed out; no servers could be reached\n\n';
    expect(parseNslookup(timedOut)).toEqual({ said: 'connection timed out; no servers could be reached' });
    expect(parseNslookup(timedOut, 'nslookup: read: Connection refused\n')).toEqual({ said: 'connection timed out; no servers could be reached; read: Connection refused' });
  });

  it('asks for A only, with the budget enforced around it and its own timeout in whole seconds', () => {
    expect(nslookupArgv(1000)).toEqual(['timeout', '1', 'busybox', 'nslookup', '-type=A', '-timeout=1', '-retry=1', DNS_NAME, DNS_SERVER]);
    expect(nslookupArgv(250).slice(0, 2)).toEqual(['timeout', '0.25']);
    expect(nslookupArgv(2500)).toContain('-timeout=3');
  });
});
