import { randomUUID } from 'node:crypto';
import { type ClusterAccess } from '../access.js';
import { type Kube } from '../kube/client.js';
import { parseFpingCount } from './fping.js';
import { podHandle, PROBE_SELECTOR } from './probe.js';

/**
 * ICMP payload of a large probe: larger than any pod MTU flannel sets (1450 on a 1500 underlay), so
 * the pod fragments it, the node reassembles it (conntrack) and re-fragments it at the MTU of the
 * device it leaves by. A device whose MTU the path between the nodes cannot carry sends it whole,
 * and the underlay drops it silently: small pings pass, this one does not.
 */
export const LARGE_PACKET_BYTES = 4000;

/** One large ping between two probe pods on different nodes. */
export interface LargePacketResult {
  source: string;
  sourceNode: string;
  target: string;
  targetNode: string;
  targetIp: string;
  bytes: number;
  ok: boolean;
  rttMs?: number;
}

export interface LargePacketOptions {
  bytes?: number;
  timeoutMs?: number;
}

/** From every probe pod, one fping of large packets to every probe pod on another node (same-node pairs never cross the underlay). */
export async function probeLargePackets(kube: Kube, access: ClusterAccess, options: LargePacketOptions = {}): Promise<LargePacketResult[]> {
  const bytes = options.bytes ?? LARGE_PACKET_BYTES;
  const timeoutMs = options.timeoutMs ?? 500;
  const pods = (await kube.core.listNamespacedPod(PROBE_SELECTOR)).items.filter((p) => p.status?.podIP && p.spec?.nodeName && !p.metadata?.deletionTimestamp);
  const group = `large-packets-${randomUUID()}`;
  const perSource = await Promise.all(
    pods.map(async (pod) => {
      const source = podHandle(pod);
      const targets = pods.filter((t) => t.spec!.nodeName !== source.node);
      if (!targets.length) return [];
      const ips = targets.map((t) => t.status!.podIP!);
      const r = await access.pod(source).exec(['fping', '-C', '1', '-q', '-b', String(bytes), '-t', String(timeoutMs), '-r', '0', ...ips], { check: false, timeoutMs: timeoutMs + 5000, group });
      const rtts = parseFpingCount(`${r.stdout}\n${r.stderr}`);
      return targets.map((t): LargePacketResult => {
        const rtt = rtts.get(t.status!.podIP!);
        return {
          source: source.name,
          sourceNode: source.node,
          target: t.metadata!.name!,
          targetNode: t.spec!.nodeName!,
          targetIp: t.status!.podIP!,
          bytes,
          ok: rtt !== undefined,
          ...(rtt !== undefined ? { rttMs: rtt } : {}),
        };
      });
    }),
  );
  return perSource.flat();
}
