import { join } from 'node:path';
import { expect, test } from 'vitest';
import { run } from '../../src/exec.js';
import { packageInfo } from '../../harness/package-info.js';
import { kindUnavailable } from '../support/kind.js';

// Target: `firedrill image build` with every image present takes < 3 s (the kind backend runs it before each cluster).
const unavailable = await kindUnavailable();
const bin = join(packageInfo().root, 'dist', 'harness', 'cli', 'main.js');

test.skipIf(unavailable)(`image build, every image present (target < 3 s)${unavailable ? ` (skipped: ${unavailable})` : ''}`, async ({ bench }) => {
  await run(['node', bin, 'image', 'build'], { timeoutMs: 1_800_000 });
  const warm = await bench('firedrill image build (warm)', async () => {
    const r = await run(['node', bin, 'image', 'build', '--json']);
    expect((JSON.parse(r.stdout) as { built: unknown[] }).built).toEqual([]);
  }).run({ iterations: 5, time: 0 });
  expect.soft(warm.latency.mean).toBeLessThan(3000);
}, 1_800_000);
