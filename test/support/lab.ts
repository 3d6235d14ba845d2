import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { type Cluster } from '../../harness/backends/backend.js';
import { clusterOf } from '../../harness/backends/lab/backend.js';
import { labDown } from '../../harness/backends/lab/lab-down.js';
import { labUp } from '../../harness/backends/lab/lab-up.js';
import { components } from '../../harness/components.js';
import { cpuGroupPath } from '../../harness/backends/lab/cpu-group.js';
import { labDir } from '../../harness/backends/lab/layout.js';
import { listNetns } from '../../harness/backends/lab/network.js';
import { labelledProcesses } from '../../harness/backends/lab/processes.js';
import { defaultCacheRoot, inspect } from '../../harness/setup/cache.js';
import { packageInfo } from '../../harness/package-info.js';
import { run } from '../../src/exec.js';
import { connect, type Kube } from '../../src/kube/client.js';

export const isRoot = process.getuid?.() === 0;

/** Why the lab tests cannot run here, or undefined when they can. */
export async function labUnavailable(): Promise<string | undefined> {
  if (!isRoot) return 'needs root (network namespaces)';
  const states = await Promise.all(components().map((c) => inspect(defaultCacheRoot(), c)));
  const missing = components().filter((_, i) => states[i]!.state !== 'ok');
  if (missing.length) return `needs the pinned components (run \`firedrill setup\`): missing ${missing.map((c) => c.name).join(', ')}`;
  return undefined;
}

/** What is left of a lab on this machine: namespaces, labelled processes, CPU group, state dir. */
export async function leftovers(lab: string): Promise<string[]> {
  const left: string[] = [];
  for (const ns of await listNetns()) if (ns.startsWith(`${lab}-`)) left.push(`netns ${ns}`);
  for (const p of await labelledProcesses(lab)) left.push(`process ${p.pid} ${p.component}`);
  if (await access(labDir(lab)).then(() => true, () => false)) left.push(`state dir ${labDir(lab)}`);
  const group = await cpuGroupPath(lab);
  if (group && (await access(group).then(() => true, () => false))) left.push(`cpu group ${group}`);
  return left;
}

export const cliPath = join(packageInfo().root, 'dist', 'harness', 'cli', 'main.js');

export function firedrill(args: string[], env: Record<string, string> = {}) {
  return run(['node', cliPath, ...args], { check: false, env, timeoutMs: 300_000 });
}

/**
 * A lab of the test file's own, made through the CLI before its tests and removed after them (and
 * checked to leave nothing), with a scratch directory. Nothing is made when the lab tests cannot run.
 */
export function suiteLab(name: string, unavailable: string | undefined): { readonly scratch: string } {
  let scratch = '';
  if (unavailable) return { scratch };
  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), `firedrill-test-${name}-`));
    const r = await firedrill(['lab', 'up', '--name', name]);
    expect(r.exitCode, r.stderr).toBe(0);
  }, 300_000);
  afterAll(async () => {
    await firedrill(['lab', 'down', '--name', name]);
    await rm(scratch, { recursive: true, force: true });
    expect(await leftovers(name)).toEqual([]);
  }, 120_000);
  return {
    get scratch() {
      return scratch;
    },
  };
}

/**
 * A 3-node lab of the test file's own, made in this process for tests that drive the library on it:
 * up before the file's tests (a lab a killed run left is removed first), down after them, and nothing
 * of it left. Call at the top of the file; with `unavailable`, no lab is made.
 */
export function libraryLab(name: string, unavailable: string | undefined): { readonly cluster: Cluster; readonly kube: Kube } {
  let cluster: Cluster | undefined;
  let kube: Kube | undefined;
  const quiet = () => undefined;
  if (!unavailable) {
    beforeAll(async () => {
      await labDown(name, quiet);
      const { state } = await labUp({ name, nodes: 3, podsPerNode: 2, dnsReplicas: 2, cacheRoot: defaultCacheRoot(), say: quiet, stepTimeoutMs: 120_000 });
      cluster = clusterOf(state);
      kube = await connect(cluster.kubeconfig);
    }, 300_000);
    afterAll(async () => {
      await labDown(name, quiet);
      expect(await leftovers(name)).toEqual([]);
    }, 60_000);
  }
  const up = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error(`lab ${name} is not up`);
    return value;
  };
  return {
    get cluster() {
      return up(cluster);
    },
    get kube() {
      return up(kube);
    },
  };
}
