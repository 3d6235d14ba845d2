import { failedDns, failedPings, type ProbeReport } from '../../src/probes/types.js';

/** A probe report for a terminal: the failures, then one summary line. */
export function formatProbeReport(r: ProbeReport): string {
  const lines = [
    ...failedPings(r).map((p) => `FAIL ping ${p.source} (${p.sourceNode}) -> ${p.target} ${p.targetIp} (${p.targetNode})`),
    ...failedDns(r).map((d) => `FAIL dns  ${d.source} (${d.sourceNode}) -> ${d.server} ${d.name}: ${d.error ?? 'no answer'}`),
  ];
  const rtts = r.ping.flatMap((p) => (p.rttMs === undefined ? [] : [p.rttMs]));
  const maxRtt = rtts.length ? Math.max(...rtts).toFixed(2) : '-';
  lines.push(
    `ping: ${r.ping.length - failedPings(r).length}/${r.ping.length} ok (max rtt ${maxRtt} ms); dns: ${r.dns.length - failedDns(r).length}/${r.dns.length} ok; ${r.durationMs} ms`,
  );
  return lines.join('\n');
}
