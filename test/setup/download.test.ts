import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtemp, readdir, readFile, rm, writeFile, mkdir, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/exec.js';
import { type Component } from '../../harness/components.js';
import { FiredrillError } from '../../harness/errors.js';
import { checkComponents, setupComponents } from '../../harness/setup/setup.js';

// A release served from loopback: a raw binary and a tarball holding another one.
const files = new Map<string, Buffer>();
let server: Server;
let base: string;
let scratch: string;

const script = (text: string) => Buffer.from(`#!/bin/sh\necho "${text}"\n`);
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'firedrill-download-test-'));
  files.set('/fakebin', script('fakebin v1.2.3'));
  files.set('/wrongbin', script('fakebin v9.9.9'));
  await mkdir(join(scratch, 'pkg', 'fake-v1.2.3'), { recursive: true });
  await writeFile(join(scratch, 'pkg', 'fake-v1.2.3', 'fakehelper'), script('fakehelper 1.2.3'));
  await chmod(join(scratch, 'pkg', 'fake-v1.2.3', 'fakehelper'), 0o755);
  await run(['tar', '-czf', join(scratch, 'fake.tgz'), '-C', join(scratch, 'pkg'), 'fake-v1.2.3']);
  files.set('/fake.tgz', await readFile(join(scratch, 'fake.tgz')));
  server = createServer((req, res) => {
    const body = files.get(req.url ?? '');
    res.writeHead(body ? 200 : 404).end(body ?? 'not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no server address');
  base = `http://127.0.0.1:${address.port}`;
});

afterAll(async () => {
  server?.close();
  await rm(scratch, { recursive: true, force: true });
});

function fakeComponent(overrides: { rawPath?: string; rawSha?: string } = {}): Component {
  const raw = files.get(overrides.rawPath ?? '/fakebin')!;
  return {
    name: 'fake',
    version: 'v1.2.3',
    description: 'a fake component served from loopback',
    binaries: {
      fakebin: { versionCheck: { args: ['--version'], expect: 'fakebin {version}' } },
      fakehelper: { versionCheck: { args: [], expect: 'fakehelper {semver}' } },
    },
    build: {
      module: 'example.invalid/fake',
      packages: { fakebin: 'example.invalid/fake/bin', fakehelper: 'example.invalid/fake/helper' },
      cgo: false,
      tags: [],
      ldflags: [],
      replaceStaging: false,
      stubs: {},
      coldBuildSeconds: 1,
    },
    download: [
      { url: `${base}${overrides.rawPath ?? '/fakebin'}`, sha256: overrides.rawSha ?? sha256(raw), format: 'raw', files: { fakebin: '' } },
      { url: `${base}/fake.tgz`, sha256: sha256(files.get('/fake.tgz')!), format: 'tgz', files: { fakehelper: 'fake-v1.2.3/fakehelper' } },
    ],
  };
}

async function freshRoot(): Promise<string> {
  return mkdtemp(join(scratch, 'cache-'));
}

const quiet = () => undefined;

describe('setup --from download', () => {
  it('installs verified artifacts, then finds them cached', async () => {
    const root = await freshRoot();
    const [first] = await setupComponents({ root, from: 'download', say: quiet, components: [fakeComponent()] });
    expect(first).toMatchObject({ component: 'fake', source: 'downloaded', path: join(root, 'fake', 'v1.2.3') });
    const out = await run([join(root, 'fake', 'v1.2.3', 'bin', 'fakehelper')]);
    expect(out.stdout.trim()).toBe('fakehelper 1.2.3');

    const [second] = await setupComponents({ root, from: 'download', say: quiet, components: [fakeComponent()] });
    expect(second?.source).toBe('cache');
    const [check] = await checkComponents(root, [fakeComponent()]);
    expect(check).toMatchObject({ state: 'ok', source: 'downloaded' });
  });

  it('rejects a checksum mismatch and leaves nothing in the cache', async () => {
    const root = await freshRoot();
    const error = await setupComponents({ root, from: 'download', say: quiet, components: [fakeComponent({ rawSha: '0'.repeat(64) })] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FiredrillError);
    expect((error as FiredrillError).exitCode).toBe(1);
    expect((error as FiredrillError).message).toMatch(/fake v1\.2\.3: sha256 mismatch for http:\/\/127\.0\.0\.1:\d+\/fakebin: expected 0{64}, got [0-9a-f]{64}/);
    expect((await readdir(root)).filter((n) => n !== 'logs')).toEqual([]);
    const [check] = await checkComponents(root, [fakeComponent()]);
    expect(check?.state).toBe('missing');
  });

  it('rejects a binary that reports another version', async () => {
    const root = await freshRoot();
    const wrong = fakeComponent({ rawPath: '/wrongbin' });
    await expect(setupComponents({ root, from: 'download', say: quiet, components: [wrong] })).rejects.toThrow(
      /the downloaded fakebin is not the pinned version: .* reports "fakebin v9\.9\.9", expected "fakebin v1\.2\.3"/,
    );
    expect((await readdir(root)).filter((n) => n !== 'logs')).toEqual([]);
  });

  it('names the URL and status of a missing artifact', async () => {
    const root = await freshRoot();
    const missing = fakeComponent();
    missing.download![0]!.url = `${base}/nope`;
    await expect(setupComponents({ root, from: 'download', say: quiet, components: [missing] })).rejects.toThrow(/\/nope answered HTTP 404/);
  });

  it('replaces a cached copy that has become broken', async () => {
    const root = await freshRoot();
    await setupComponents({ root, from: 'download', say: quiet, components: [fakeComponent()] });
    await rm(join(root, 'fake', 'v1.2.3', 'bin', 'fakehelper'));
    const [check] = await checkComponents(root, [fakeComponent()]);
    expect(check).toMatchObject({ state: 'broken', detail: 'fakehelper is missing or not executable' });
    const said: string[] = [];
    const [again] = await setupComponents({ root, from: 'download', say: (l) => said.push(l), components: [fakeComponent()] });
    expect(again?.source).toBe('downloaded');
    expect(said.join('\n')).toContain('the cached copy is broken');
  });

  it('says a component without pinned artifacts can only be built', async () => {
    const root = await freshRoot();
    const noDownload = { ...fakeComponent(), download: undefined };
    const error = (await setupComponents({ root, from: 'download', say: quiet, components: [noDownload] }).catch((e: unknown) => e)) as FiredrillError;
    expect(error.exitCode).toBe(3);
    expect(error.message).toContain('pins no release artifact with a checksum');
  });
});
