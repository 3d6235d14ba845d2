import { type ClusterAccess } from '../src/access.js';
import { type Kube } from '../src/kube/client.js';
import { DNS_TIMEOUT_MS, probeCluster } from '../src/probes/probe.js';
import { failedDns, failedPings, isGreen, type ProbeReport } from '../src/probes/types.js';
import { type Poll } from './wait.js';

const FIRST_DNS_TIMEOUT_MS = 250;

/**
 * A poll of the full probe matrix for `waitFor`, done when it is green. A new cluster's first DNS
 * lookups go unanswered until kube-proxy has the kube-dns endpoints (each failure cost the full
 * second on every lab up): lookups get 250 ms at first. While none is answered by a quick poll the
 * endpoints are not there yet and the budget stays short; otherwise it doubles after each failed poll
 * up to the usual second, so a busy machine whose lookups start slowly still turns green.
 */
export function greenPoll(kube: Kube, access: ClusterAccess): () => Promise<Poll<ProbeReport>> {
  let dnsTimeoutMs = FIRST_DNS_TIMEOUT_MS;
  return async () => {
    const report = await probeCluster(kube, access, { dnsTimeoutMs });
    if (isGreen(report)) return { done: true, value: report };
    // None answered, in a poll short enough that every lookup had time to start: not programmed yet.
    const unprogrammed = failedDns(report).length === report.dns.length && report.durationMs < 2 * dnsTimeoutMs;
    if (!unprogrammed) dnsTimeoutMs = Math.min(dnsTimeoutMs * 2, DNS_TIMEOUT_MS);
    return { done: false, reason: `${failedPings(report).length}/${report.ping.length} pings and ${failedDns(report).length}/${report.dns.length} DNS lookups failing` };
  };
}
