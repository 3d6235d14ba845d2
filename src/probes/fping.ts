/**
 * Parses `fping -C 1 -q` output: one line per target, "10.244.1.2 : 0.05" when it answered
 * (the rtt in ms) or "10.244.1.3 : -" when it did not.
 */
export function parseFpingCount(output: string): Map<string, number | undefined> {
  const out = new Map<string, number | undefined>();
  for (const line of output.split('\n')) {
    const m = /^\s*(\S+)\s+:\s+(\S+)\s*$/.exec(line);
    if (!m) continue;
    const rtt = m[2] === '-' ? undefined : Number(m[2]);
    out.set(m[1]!, rtt !== undefined && Number.isFinite(rtt) ? rtt : undefined);
  }
  return out;
}
