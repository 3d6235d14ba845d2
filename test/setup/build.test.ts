import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { components } from '../../harness/components.js';
import { run } from '../../src/exec.js';
import { setupComponents } from '../../harness/setup/setup.js';

// The build path for real: the smallest pinned component, from its Go module, into a private cache.
const hasGo = await run(['go', 'version'], { check: false }).then(
  (r) => r.exitCode === 0,
  () => false,
);
const cni = components().find((c) => c.name === 'cni-plugins')!;
let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'firedrill-build-test-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('setup --from build', () => {
  it('builds the CNI plugins from github.com/containernetworking/plugins at the pinned version', { timeout: 600_000 }, async (ctx) => {
    if (!hasGo) ctx.skip('needs a Go toolchain on PATH and the Go module proxy');
    const said: string[] = [];
    const [result] = await setupComponents({ root, from: 'build', say: (l) => said.push(l), components: [cni] });
    expect(result).toMatchObject({ component: 'cni-plugins', version: 'v1.9.1', source: 'built' });
    const bridge = await run([join(root, 'cni-plugins', 'v1.9.1', 'bin', 'bridge')], { check: false, cleanEnv: true });
    expect(bridge.stdout + bridge.stderr).toContain('CNI bridge plugin v1.9.1');
    expect(said.join('\n')).toContain('building from the Go module github.com/containernetworking/plugins@v1.9.1');
    expect((await readdir(root)).filter((n) => n.startsWith('.staging'))).toEqual([]);

    const [again] = await setupComponents({ root, from: 'auto', say: () => undefined, components: [cni] });
    expect(again?.source).toBe('cache');
  });
});
