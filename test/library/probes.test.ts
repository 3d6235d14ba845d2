import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { type ClusterAccess, type PodHandle } from '../../src/access.js';
import { type CommandResult } from '../../src/exec.js';
import { type Kube } from '../../src/kube/client.js';
import { mapLimit } from '../../src/parallel.js';
import { suspectNodes } from '../../src/doctor.js';
import { DNS_SELECTOR, fpingArgv, probeCluster } from '../../src/probes/probe.js';

// busybox nslookup's output for an answered lookup, and for a Service with no endpoint (ICMP port unreachable) until the budget ran out.
const ANSWERED = { exitCode: 0, stdout: 'Server:\t\t10.96.0.10\nAddress:\t10.96.0.10:53\n\nName:\tkubernetes.default.svc.cluster.local\nAddress: 10.96.0.1\n\n', stderr: '' };
const REFUSED_UNTIL_KILLED = { exitCode: 124, stdout: '', stderr: 'nslookup: read: Connection refused\nnslookup: read: Connection refused\n' };

// A fake cluster of `nodes` nodes with `perNode` probe pods each and one DNS pod; the pods answer
// every ping except those in `unanswered`, and the test sees every argv a pod ran.
function fakeCluster(nodes: number, perNode: number, unanswered = new Set<string>(), dnsReply: Pick<CommandResult, 'exitCode' | 'stdout' | 'stderr'> = ANSWERED) {
  const nodeNames = Array.from({ length: nodes }, (_, i) => `n${i}`);
  const pod = (name: string, node: string, ip: string, namespace = 'firedrill'): V1Pod => ({
    metadata: { name, namespace, uid: `uid-${name}` },
    spec: { nodeName: node, containers: [] },
    status: { podIP: ip },
  });
  const probes = nodeNames.flatMap((n, i) => Array.from({ length: perNode }, (_, k) => pod(`probe-${i}-${k}`, n, `10.244.${i}.${k + 10}`)));
  const dns = [pod('coredns-0', 'n0', '10.244.0.2', 'kube-system')];
  const nodeObjects: V1Node[] = nodeNames.map((n, i) => ({ metadata: { name: n }, spec: { podCIDR: `10.244.${i}.0/24` } }));
  const ran: { pod: string; argv: readonly string[] }[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const kube = {
    core: {
      listNamespacedPod: async (q: { namespace: string }) => ({ items: q.namespace === DNS_SELECTOR.namespace ? dns : probes }),
      listNode: async () => ({ items: nodeObjects }),
    },
  } as unknown as Kube;
  const access = {
    pod: (p: PodHandle) => ({
      async exec(argv: readonly string[]): Promise<CommandResult> {
        ran.push({ pod: p.name, argv });
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((r) => setTimeout(r, 2));
        inFlight--;
        if (argv[0] === 'fping') {
          const ips = argv.slice(fpingArgv([], 0).length);
          return { argv, exitCode: 0, stdout: '', stderr: ips.map((ip) => `${ip} : ${unanswered.has(ip) ? '-' : '0.05'}`).join('\n'), durationMs: 2 };
        }
        return { argv, ...dnsReply, durationMs: 2 };
      },
    }),
  } as unknown as ClusterAccess;
  return { kube, access, ran, maxInFlight: () => maxInFlight };
}

describe('probe matrix', () => {
  it('full: every probe pod pings every other probe pod, the DNS pod and every gateway, in one fping each', async () => {
    const c = fakeCluster(4, 2);
    const r = await probeCluster(c.kube, c.access);
    const fpings = c.ran.filter((x) => x.argv[0] === 'fping');
    expect(fpings).toHaveLength(8);
    // 7 other probe pods + 1 DNS pod + 4 gateways per source
    expect(r.ping).toHaveLength(8 * 12);
    expect(r.dns).toHaveLength(8);
    expect(r.ping.every((p) => p.ok)).toBe(true);
    expect(r.dns.every((d) => d.ok && d.answer === '10.96.0.1')).toBe(true);
  });

  it('DNS: a lookup stopped at its budget says so, with what nslookup saw before (a refused read: nothing listens behind the Service)', async () => {
    const c = fakeCluster(2, 1, new Set(), REFUSED_UNTIL_KILLED);
    const r = await probeCluster(c.kube, c.access);
    expect(r.dns.map((d) => [d.ok, d.error])).toEqual([
      [false, 'no answer within 1000 ms (read: Connection refused)'],
      [false, 'no answer within 1000 ms (read: Connection refused)'],
    ]);
  });

  it('sampled: one source per node, every node pair covered, N² pod pings', async () => {
    const c = fakeCluster(5, 3);
    const r = await probeCluster(c.kube, c.access, { mode: 'sampled', dns: false });
    expect(new Set(r.ping.map((p) => p.source))).toEqual(new Set(['probe-0-0', 'probe-1-0', 'probe-2-0', 'probe-3-0', 'probe-4-0']));
    const podPairs = r.ping.filter((p) => p.targetKind === 'pod' && p.target.startsWith('probe-'));
    expect(podPairs).toHaveLength(5 * 4);
    const nodePairs = new Set(podPairs.map((p) => `${p.sourceNode}>${p.targetNode}`));
    expect(nodePairs.size).toBe(5 * 4);
    expect(r.ping.filter((p) => p.targetKind === 'gateway')).toHaveLength(5 * 5);
    expect(r.dns).toHaveLength(0);
    expect(c.ran.every((x) => x.argv[0] === 'fping')).toBe(true);
  });

  it('never has more sources in flight than the concurrency allows', async () => {
    const c = fakeCluster(10, 2);
    await probeCluster(c.kube, c.access, { concurrency: 3, dns: false });
    expect(c.maxInFlight()).toBe(3);
  });

  it('reports an unanswered target as a failed ping', async () => {
    const c = fakeCluster(3, 1, new Set(['10.244.2.10']));
    const r = await probeCluster(c.kube, c.access, { dns: false });
    const failed = r.ping.filter((p) => !p.ok);
    expect(failed.map((p) => `${p.source}>${p.target}`).sort()).toEqual(['probe-0-0>probe-2-0', 'probe-1-0>probe-2-0']);
  });

  it('passes the targets to fping as separate arguments, with a short send interval', () => {
    expect(fpingArgv(['10.244.1.2', '10.244.2.3'], 150)).toEqual(['fping', '-C', '1', '-q', '-t', '150', '-r', '0', '-i', '0', '10.244.1.2', '10.244.2.3']);
  });
});

describe('mapLimit', () => {
  it('keeps input order and bounds the calls in flight', async () => {
    let inFlight = 0;
    let max = 0;
    const out = await mapLimit([5, 1, 4, 2, 3], 2, async (x) => {
      inFlight++;
      max = Math.max(max, inFlight);
      await new Promise((r) => setTimeout(r, x));
      inFlight--;
      return x * 10;
    });
    expect(out).toEqual([50, 10, 40, 20, 30]);
    expect(max).toBe(2);
  });

  it('rejects a limit below one', async () => {
    await expect(mapLimit([1], 0, async (x) => x)).rejects.toThrow(/positive integer/);
  });
});

describe('suspects of a triage', () => {
  const ping = (sourceNode: string, targetNode: string, ok: boolean) => ({ kind: 'ping' as const, source: `p-${sourceNode}`, sourceNode, target: `p-${targetNode}`, targetNode, targetIp: '10.244.0.1', targetKind: 'pod' as const, ok });
  const report = (pings: ReturnType<typeof ping>[]) => ({ at: '', durationMs: 0, ping: pings, dns: [] });

  it('are the nodes the failing pings have most in common, none when nothing fails', () => {
    const nodes = ['a', 'b', 'c', 'd'];
    // d cut off: every ping to or from it fails.
    const pings = nodes.flatMap((s) => nodes.filter((t) => t !== s).map((t) => ping(s, t, s !== 'd' && t !== 'd')));
    expect(suspectNodes(report(pings))).toEqual(['d']);
    expect(suspectNodes(report(pings.map((p) => ({ ...p, ok: true }))))).toEqual([]);
    // Two nodes cut off from each other only: both equally involved.
    expect(suspectNodes(report([ping('a', 'b', false), ping('b', 'a', false), ping('a', 'c', true)]))).toEqual(['a', 'b']);
  });
});
