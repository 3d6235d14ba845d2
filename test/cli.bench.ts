import { join } from 'node:path';
import { expect, test } from 'vitest';
import { run } from '../src/exec.js';
import { packageInfo } from '../harness/package-info.js';

// Target: the compiled CLI answers --version and --help in < 200 ms.
const bin = join(packageInfo().root, 'dist', 'harness', 'cli', 'main.js');

test('CLI start-up (target < 200 ms)', async ({ bench }) => {
  const version = await bench('firedrill --version', async () => {
    await run(['node', bin, '--version']);
  }).run({ iterations: 20, time: 0 });
  const help = await bench('firedrill --help', async () => {
    await run(['node', bin, '--help']);
  }).run({ iterations: 20, time: 0 });
  expect.soft(version.latency.mean).toBeLessThan(200);
  expect.soft(help.latency.mean).toBeLessThan(200);
});
