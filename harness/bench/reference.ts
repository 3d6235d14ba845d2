import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listNetns } from '../backends/lab/network.js';
import { run } from '../../src/exec.js';
import { type ReferenceRun } from './results.js';

/** The namespaces the bash reference creates, and prunes when any exist before it starts. */
const REFERENCE_NETNS = /^fd-(underlay|node-[0-9]+|pod-[0-9]+-[0-9]+)$/;

/**
 * The bash reference (../shared/reference/flannel-netns-lab.sh) building the same data plane as a
 * lab: `up` timed, then `down`. Only ever run by the bench, with its state in a fresh temp dir.
 * Its namespace names are fixed (fd-underlay, fd-node-1…), and its `up` first prunes whatever
 * matches them, which a firedrill lab named "fd" would: it does not run when any exists.
 */
export async function benchReference(script: string, nodes: number): Promise<ReferenceRun> {
  if (process.getuid?.() !== 0) return { skipped: 'needs root' };
  if (!(await exists(script))) return { skipped: `no reference script at ${script} (FIREDRILL_BENCH_REFERENCE)` };
  const missing = [];
  for (const path of ['/usr/lib/cni/bridge', '/usr/lib/cni/host-local']) if (!(await exists(path))) missing.push(`${path} (apt-get install containernetworking-plugins)`);
  if ((await run(['sh', '-c', 'command -v dnsmasq'], { check: false })).exitCode !== 0) missing.push('dnsmasq (apt-get install dnsmasq-base)');
  if (missing.length) return { skipped: `the reference needs ${missing.join(', ')}` };
  const clashing = (await listNetns()).filter((n) => REFERENCE_NETNS.test(n));
  if (clashing.length) return { skipped: `namespaces named like the reference's exist (${clashing.slice(0, 3).join(', ')}…): it would prune them` };
  const base = await mkdtemp(join(tmpdir(), 'firedrill-reference-'));
  const env = { FDLAB_BASE: base, FDLAB_QUIET: '1' };
  try {
    const up = await run(['bash', script, 'up', '--nodes', String(nodes), '--pods', '2'], { env, check: false, timeoutMs: 300_000 });
    const down = await run(['bash', script, 'down'], { env, check: false, timeoutMs: 120_000 });
    if (up.exitCode !== 0) return { skipped: `reference up failed: ${(up.stderr || up.stdout).trim().split('\n').at(-1)}` };
    return { upMs: Math.round(up.durationMs), downMs: Math.round(down.durationMs), ...(down.exitCode ? { skipped: `reference down failed: ${down.stderr.trim().split('\n').at(-1)}` } : {}) };
  } finally {
    // Whatever happened, nothing of the reference stays behind.
    if ((await listNetns()).some((n) => REFERENCE_NETNS.test(n))) await run(['bash', script, 'prune'], { env, check: false, timeoutMs: 120_000 });
    await rm(base, { recursive: true, force: true });
  }
}

const exists = (path: string) => access(path).then(() => true, () => false);
