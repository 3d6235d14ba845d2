import { randomUUID } from 'node:crypto';
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { type ClusterAccess, type PodHandle } from '../access.js';
import { CommandError } from '../exec.js';
import { type Kube } from '../kube/client.js';
import { mapLimit } from '../parallel.js';
import { parseFpingCount } from './fping.js';
import { type DnsResult, type PingResult, type ProbeReport } from './types.js';

export const PROBE_SELECTOR = { namespace: 'firedrill', labelSelector: 'app=firedrill-probe' };
export const DNS_SELECTOR = { namespace: 'kube-system', labelSelector: 'k8s-app=kube-dns' };
export const DNS_SERVER = '10.96.0.10';
export const DNS_NAME = 'kubernetes.default.svc.cluster.local';
export const DNS_EXPECT = '10.96.0.1';

export interface ProbeOptions {
  /** Per-target reply timeout for ping, in ms. */
  pingTimeoutMs?: number;
  /** Also look up the cluster DNS from every source pod (default true). */
  dns?: boolean;
  /**
   * `full` (default, for verification): every probe pod pings every other probe pod, every DNS pod
   * and every node's gateway. `sampled` (for detection): one probe pod per node pings the sampled pod
   * of every other node, every DNS pod and every gateway: every node pair, N² pings instead of (N·pods)².
   */
  mode?: ProbeMode;
  /** How many source pods probe at once (default PROBE_CONCURRENCY). */
  concurrency?: number;
  /**
   * How long a DNS lookup may take (default DNS_TIMEOUT_MS). Shorter only where a false failure
   * costs nothing but another try (waiting for a new cluster to turn green).
   */
  dnsTimeoutMs?: number;
}

export type ProbeMode = 'full' | 'sampled';

/**
 * Sources probing at once. Each source is one fping (and one nslookup) that pings its targets concurrently
 * and mostly waits: more sources in flight than cores is fine, hundreds at once only queue.
 */
const PROBE_CONCURRENCY = 16;

/**
 * fping's gap between two packets to different targets, in ms. fping's default (10 ms) makes one
 * source with 150 targets (50 nodes) take 1.5 s before it waits for a single reply, and 1 ms still
 * 150 ms. A healthy underlay answers a burst in well under a millisecond: on a 50-node lab, every
 * source sending its 100 pings at once (0, allowed to root) lost none of 10,000 (twice), and a source
 * took 16 ms instead of 113.
 */
const PING_INTERVAL_MS = 0;

interface Target {
  name: string;
  node: string;
  ip: string;
  kind: 'pod' | 'gateway';
}

/**
 * The matrix an SRE runs first: from each source pod, one fping call to all its targets (other probe
 * pods, the DNS pods, every node's pod gateway on cni0) and a DNS lookup through the cluster DNS
 * Service. Sources run in parallel, at most `concurrency` at once; nothing waits for a retry.
 */
export async function probeCluster(kube: Kube, access: ClusterAccess, options: ProbeOptions = {}): Promise<ProbeReport> {
  const started = performance.now();
  const [probes, dnsPods, nodes] = await Promise.all([
    kube.core.listNamespacedPod(PROBE_SELECTOR),
    kube.core.listNamespacedPod(DNS_SELECTOR),
    kube.core.listNode(),
  ]);
  const ready = probes.items.filter(hasIp);
  const sources = options.mode === 'sampled' ? onePerNode(ready) : ready;
  const targets: Target[] = [
    ...[...sources, ...dnsPods.items.filter(hasIp)].map((p) => ({ name: p.metadata!.name!, node: p.spec!.nodeName!, ip: p.status!.podIP!, kind: 'pod' as const })),
    ...nodes.items.flatMap((n) => gatewayOf(n)),
  ];
  const timeoutMs = options.pingTimeoutMs ?? 300;
  // This run's calls may share round trips with each other (kind: one exec per node), never with another run's.
  const group = `probe-${randomUUID()}`;
  const perSource = await mapLimit(sources, options.concurrency ?? PROBE_CONCURRENCY, async (pod) => {
    const handle = podHandle(pod);
    const exec = access.pod(handle);
    const mine = targets.filter((t) => t.ip !== pod.status!.podIP);
    const [ping, dns] = await Promise.all([pingFrom(exec, handle, mine, timeoutMs, group), options.dns === false ? undefined : dnsFrom(exec, handle, group, options.dnsTimeoutMs ?? DNS_TIMEOUT_MS)]);
    return { ping, dns };
  });
  return {
    at: new Date().toISOString(),
    durationMs: Math.round(performance.now() - started),
    ping: perSource.flatMap((s) => s.ping),
    dns: perSource.flatMap((s) => (s.dns ? [s.dns] : [])),
  };
}

/** The first probe pod of each node, by name: the same pods every time, so repeated samples compare. */
function onePerNode(pods: V1Pod[]): V1Pod[] {
  const byNode = new Map<string, V1Pod>();
  for (const p of [...pods].sort((a, b) => a.metadata!.name!.localeCompare(b.metadata!.name!))) {
    if (!byNode.has(p.spec!.nodeName!)) byNode.set(p.spec!.nodeName!, p);
  }
  return [...byNode.values()];
}

/** The fping argv for a set of targets: one count each, no retry, `timeoutMs` per target. */
export function fpingArgv(ips: readonly string[], timeoutMs: number): string[] {
  return ['fping', '-C', '1', '-q', '-t', String(timeoutMs), '-r', '0', '-i', String(PING_INTERVAL_MS), ...ips];
}

async function pingFrom(exec: ReturnType<ClusterAccess['pod']>, source: PodHandle, targets: Target[], timeoutMs: number, group: string): Promise<PingResult[]> {
  if (!targets.length) return [];
  const r = await exec.exec(fpingArgv(targets.map((t) => t.ip), timeoutMs), { check: false, timeoutMs: timeoutMs + EXEC_ALLOWANCE_MS, group });
  const rtts = parseFpingCount(`${r.stdout}\n${r.stderr}`);
  return targets.map((t) => {
    const rtt = rtts.get(t.ip);
    return {
      kind: 'ping',
      source: source.name,
      sourceNode: source.node,
      target: t.name,
      targetNode: t.node,
      targetIp: t.ip,
      targetKind: t.kind,
      ok: rtt !== undefined,
      ...(rtt !== undefined ? { rttMs: rtt } : {}),
    };
  });
}

/**
 * A healthy cluster DNS answers in about a millisecond; the client's shortest timeout is a second,
 * and the budget is enforced inside the pod (`timeout`) so that reaching the pod (a container exec on
 * kind) never counts against it. It includes the client's own start, which on a loaded 2-core
 * machine has taken more than half a second (dig's): below a second, a busy CI runner reports a
 * healthy DNS as failing.
 */
export const DNS_TIMEOUT_MS = 1000;
/** How long reaching the pod and back may take on top, before the probe itself is given up. */
const EXEC_ALLOWANCE_MS = 10_000;

/**
 * The lookup Kubernetes' DNS debugging guide starts with: nslookup of kubernetes.default through the
 * cluster DNS Service, here busybox's (in the probe image, and a Debian package on a lab's host).
 * It starts in about 2 ms of CPU where dig takes about 16: on 50 nodes, 50 lookups per probe run.
 */
export function nslookupArgv(timeoutMs: number): string[] {
  const seconds = Math.max(1, Math.ceil(timeoutMs / 1000));
  return ['timeout', String(timeoutMs / 1000), 'busybox', 'nslookup', '-type=A', `-timeout=${seconds}`, '-retry=1', DNS_NAME, DNS_SERVER];
}

async function dnsFrom(exec: ReturnType<ClusterAccess['pod']>, source: PodHandle, group: string, timeoutMs: number): Promise<DnsResult> {
  const started = performance.now();
  const base = { kind: 'dns' as const, source: source.name, sourceNode: source.node, server: DNS_SERVER, name: DNS_NAME };
  let r;
  try {
    r = await exec.exec(nslookupArgv(timeoutMs), { check: false, timeoutMs: timeoutMs + EXEC_ALLOWANCE_MS, group });
  } catch (e) {
    if (!(e instanceof CommandError)) throw e;
    return { ...base, ok: false, error: `the pod did not run nslookup: ${e.reason}`, rttMs: Math.round(performance.now() - started) };
  }
  const { status, answer, said } = parseNslookup(r.stdout, r.stderr);
  // coreutils' timeout exits 124 when it had to stop the command; what nslookup saw until then still tells a drop from a refusal.
  if (r.exitCode === 124) return { ...base, ok: false, error: `no answer within ${timeoutMs} ms${said ? ` (${said})` : ''}`, rttMs: Math.round(performance.now() - started) };
  const ok = status === 'NOERROR' && answer === DNS_EXPECT;
  const error = ok
    ? undefined
    : status === undefined
      ? said || `nslookup exited ${r.exitCode} without a reply`
      : status !== 'NOERROR'
        ? `server answered ${status}`
        : answer
          ? `unexpected answer ${answer}, expected ${DNS_EXPECT}`
          : said || 'server answered NOERROR with no A record';
  return { ...base, ok, ...(answer ? { answer } : {}), ...(error ? { error } : {}), rttMs: Math.round(performance.now() - started) };
}

/**
 * busybox nslookup's output for one A query: the reply status (it prints "Server:" once a reply came,
 * "** server can't find NAME: RCODE" for an error status), the first A record ("Name:\tNAME" then
 * "Address: IP"; the server's own line has a tab), and what it said otherwise: ";; connection timed
 * out…", a reply it could not parse, or a read error on stderr (ICMP port unreachable).
 */
export function parseNslookup(stdout: string, stderr = ''): { status?: string; answer?: string; said?: string } {
  const rcode = /^\*\* server can't find \S+: (\w+)$/m.exec(stdout)?.[1];
  const status = rcode ?? (/^Server:\t/m.test(stdout) ? 'NOERROR' : undefined);
  const answer = /^Name:\t\S+\nAddress: (\S+)$/m.exec(stdout)?.[1];
  const lines = [...stdout.split('\n'), ...stderr.split('\n')].map((l) => l.trim());
  const said = [lines.find((l) => /^(;;|\*\*\* )/.test(l))?.replace(/^(;;|\*\*\*)\s*/, ''), lines.find((l) => l.startsWith('nslookup: '))?.slice('nslookup: '.length)]
    .filter(Boolean)
    .join('; ');
  return { ...(status ? { status } : {}), ...(answer ? { answer } : {}), ...(said ? { said } : {}) };
}

const hasIp = (p: V1Pod) => Boolean(p.status?.podIP && p.spec?.nodeName && !p.metadata?.deletionTimestamp);

export function podHandle(p: V1Pod): PodHandle {
  return { namespace: p.metadata!.namespace!, name: p.metadata!.name!, uid: p.metadata!.uid!, node: p.spec!.nodeName! };
}

/** A node's pod gateway: the first address of its podCIDR, which the bridge plugin puts on cni0. */
function gatewayOf(n: V1Node): Target[] {
  const cidr = n.spec?.podCIDR;
  if (!cidr) return [];
  const [base] = cidr.split('/');
  const octets = base!.split('.').map(Number);
  octets[3] = octets[3]! + 1;
  return [{ name: `${n.metadata!.name}/cni0`, node: n.metadata!.name!, ip: octets.join('.'), kind: 'gateway' }];
}
