import { spawn } from 'node:child_process';
import { access, chmod, copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { components, expand } from '../../harness/components.js';
import { labCpuGroup, removeCpuGroup } from '../../harness/backends/lab/cpu-group.js';
import { writeState } from '../../harness/backends/lab/state.js';
import { BATCH_DIR_PREFIX, BATCH_RESULTS_ROOT } from '../../src/batch.js';
import { defaultCacheRoot, binaryPath, componentDir } from '../../harness/setup/cache.js';
import { cliPath, firedrill, labUnavailable, leftovers } from '../support/lab.js';

// How `lab up` fails: one clear message, the documented exit code, and nothing left behind.
const unavailable = await labUnavailable();
let scratch: string;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'firedrill-lifecycle-'));
});
afterAll(async () => {
  await firedrill(['prune']);
  await rm(scratch, { recursive: true, force: true });
});

/** A cache of the real components where some binaries are replaced by scripts (which still report the pinned version). */
async function cacheWith(fakes: Record<string, string>): Promise<string> {
  const root = await mkdtemp(join(scratch, 'cache-'));
  for (const c of components()) {
    const dir = componentDir(root, c);
    await mkdir(join(dir, 'bin'), { recursive: true });
    await copyFile(join(componentDir(defaultCacheRoot(), c), 'firedrill-component.json'), join(dir, 'firedrill-component.json'));
    for (const [binary, spec] of Object.entries(c.binaries)) {
      const target = join(dir, 'bin', binary);
      const body = fakes[binary];
      if (!body) {
        await symlink(binaryPath(defaultCacheRoot(), c, binary), target);
        continue;
      }
      const version = expand(spec.versionCheck.expect, c.version);
      await writeFile(target, `#!/bin/sh\ncase "$*" in *version*) echo "${version}"; exit 0;; esac\n${body}\n`);
      await chmod(target, 0o755);
    }
  }
  return root;
}

describe('lab up refuses bad input with exit 2 and creates nothing', () => {
  it.each([
    [['--nodes', '0'], '--nodes must be a whole number from 1 to 50 (got "0")'],
    [['--nodes', '1000'], '--nodes must be a whole number from 1 to 50 (got "1000")'],
    [['--nodes', 'three'], '--nodes must be a whole number from 1 to 50 (got "three")'],
    [['--pods-per-node', '-1'], '--pods-per-node must be a whole number'],
    [['--name', 'Bad_Name'], 'invalid cluster name "Bad_Name"'],
  ])('lab up %j', async (args, message) => {
    const r = await firedrill(['lab', 'up', '--name', 'fdbad', ...args]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(message);
    expect(await leftovers('fdbad')).toEqual([]);
  });
});

describe.skipIf(unavailable)(`lab up failures (${unavailable ?? 'root and components present'})`, () => {
  it('exits 3 and says so when not root', async () => {
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'node', cliPath, 'lab', 'up', '--name', 'fdnoroot'], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => resolve({ code, stderr }));
    });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('lab up needs root');
  });

  it('exits 3 pointing at `firedrill setup` when a component is missing', async () => {
    const empty = await mkdtemp(join(scratch, 'empty-'));
    const r = await firedrill(['lab', 'up', '--name', 'fdmiss', '--cache-dir', empty]);
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toMatch(/is not set up in .*\n\s+what to do: run `firedrill setup`/);
    expect(await leftovers('fdmiss')).toEqual([]);
  });

  it('shows the end of the log of a component that exits during start, and removes everything', async () => {
    const cache = await cacheWith({ etcd: 'echo "etcd: simulated failure: data dir is corrupt" >&2; exit 1' });
    const r = await firedrill(['lab', 'up', '--name', 'fdcrash', '--cache-dir', cache, '--timeout', '30']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('etcd on fdcrash-control-plane exited during start');
    expect(r.stderr).toContain('etcd: simulated failure: data dir is corrupt');
    expect(await leftovers('fdcrash')).toEqual([]);
  });

  it('shows the end of the log of a component that exits once the API server is up (flanneld), and removes everything', async () => {
    const cache = await cacheWith({ flanneld: 'echo "flanneld: simulated failure: failed to create the vxlan device" >&2; exit 1' });
    const r = await firedrill(['lab', 'up', '--name', 'fdflx', '--cache-dir', cache, '--timeout', '30']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/flanneld on fdflx-(control-plane|worker2?) exited during start/);
    expect(r.stderr).toContain('flanneld: simulated failure: failed to create the vxlan device');
    expect(await leftovers('fdflx')).toEqual([]);
  });

  it('names the readiness step that timed out, and removes everything', async () => {
    const cache = await cacheWith({ 'kube-apiserver': 'exec sleep 600' });
    const r = await firedrill(['lab', 'up', '--name', 'fdslow', '--cache-dir', cache, '--timeout', '5']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('timed out after 5s waiting for kube-apiserver /readyz');
    expect(await leftovers('fdslow')).toEqual([]);
  });

  it('refuses a lab name that is taken, and lab down is idempotent', async () => {
    await writeState({
      name: 'fdtaken', status: 'ready', createdAt: new Date().toISOString(), firedrillVersion: 'test', podsPerNode: 1, nodes: [],
      underlay: { netns: 'fdtaken-underlay', bridge: 'br0', cidr: '172.18.0.0/16' }, apiserver: { url: 'https://172.18.0.2:6443' },
      kubeconfig: '/dev/null', versions: {}, processes: [],
    });
    const r = await firedrill(['lab', 'up', '--name', 'fdtaken']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('a lab named "fdtaken" already exists');
    expect((await firedrill(['lab', 'down', '--name', 'fdtaken'])).exitCode).toBe(0);
    expect((await firedrill(['lab', 'down', '--name', 'fdtaken'])).exitCode).toBe(0);
    expect(await leftovers('fdtaken')).toEqual([]);
  });

  it('cleans up on Ctrl-C during lab up and exits 130', async () => {
    const child = spawn('node', [cliPath, 'lab', 'up', '--name', 'fdint'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let sent = false;
    const code = await new Promise<number | null>((resolve) => {
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (!sent && stderr.includes('waiting for kube-apiserver')) {
          // One Ctrl-C: a second one means "exit now, skip the cleanup".
          sent = true;
          child.kill('SIGINT');
        }
      });
      child.on('close', resolve);
    });
    expect(stderr).toContain('SIGINT: cleaning up');
    expect(code).toBe(130);
    expect(await leftovers('fdint')).toEqual([]);
  });

  it('prune removes what a killed lab up left behind, and the node-read results of a killed process', async () => {
    const child = spawn('node', [cliPath, 'lab', 'up', '--name', 'fdkill'], { stdio: ['ignore', 'ignore', 'pipe'] });
    await new Promise<void>((resolve) => {
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (stderr.includes('waiting for kube-apiserver')) {
          child.kill('SIGKILL');
          resolve();
        }
      });
    });
    await new Promise((r) => child.on('close', r));
    expect((await leftovers('fdkill')).length).toBeGreaterThan(0);
    // A node read's results, as a process killed mid-read leaves them (its pid is gone), beside a live process's.
    const killedRead = await mkdtemp(join(BATCH_RESULTS_ROOT, `${BATCH_DIR_PREFIX}${child.pid}-`));
    const liveRead = await mkdtemp(join(BATCH_RESULTS_ROOT, `${BATCH_DIR_PREFIX}${process.pid}-`));
    try {
      // The CPU group of a lab killed once up, its state dir and processes already gone.
      expect(await labCpuGroup('fdgone'), 'needs a cgroup file system with the cpu controller and cpu.idle').toBeDefined();
      await writeFile(join(killedRead, '0.out'), 'output');
      const r = await firedrill(['prune']);
      expect(r.exitCode).toBe(0);
      expect(r.stderr).toContain('removed lab fdkill:');
      expect(r.stderr).toContain('removed lab fdgone:');
      expect(await leftovers('fdgone')).toEqual([]);
      expect(r.stderr).toContain(`removing ${killedRead}, left by a killed process`);
      expect(await leftovers('fdkill')).toEqual([]);
      await expect(access(killedRead)).rejects.toThrow();
      await access(liveRead);
    } finally {
      await rm(killedRead, { recursive: true, force: true });
      await rm(liveRead, { recursive: true, force: true });
      await removeCpuGroup('fdgone');
    }
  });
});
