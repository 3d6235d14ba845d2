/** One reachability check from a probe pod. */
export interface PingResult {
  kind: 'ping';
  source: string;
  sourceNode: string;
  target: string;
  targetNode: string;
  targetIp: string;
  targetKind: 'pod' | 'gateway';
  ok: boolean;
  rttMs?: number;
}

/** One DNS lookup through the cluster DNS Service from a probe pod. */
export interface DnsResult {
  kind: 'dns';
  source: string;
  sourceNode: string;
  server: string;
  name: string;
  ok: boolean;
  answer?: string;
  error?: string;
  rttMs: number;
}

export interface ProbeReport {
  at: string;
  durationMs: number;
  ping: PingResult[];
  dns: DnsResult[];
}

export const failedPings = (r: ProbeReport) => r.ping.filter((p) => !p.ok);
export const failedDns = (r: ProbeReport) => r.dns.filter((d) => !d.ok);
/** Each node's share of the failed pings (as source or target), most involved first. */
export function involvement(r: ProbeReport): [node: string, failed: number][] {
  const counts = new Map<string, number>();
  for (const p of failedPings(r)) for (const n of new Set([p.sourceNode, p.targetNode])) counts.set(n, (counts.get(n) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

export const isGreen = (r: ProbeReport) => r.ping.length > 0 && r.dns.length > 0 && failedPings(r).length === 0 && failedDns(r).length === 0;
