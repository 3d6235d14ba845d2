import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { chmod, mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { run } from '../../src/exec.js';
import { type Component, expand } from '../components.js';
import { environmentError, failure } from '../errors.js';
import { type BuildOutcome } from './go-build.js';

/**
 * Downloads a component's release artifacts into `outDir`, verifying each one's
 * sha256 against the manifest before anything is unpacked or kept.
 */
export async function download(c: Component, outDir: string, log: (line: string) => void): Promise<BuildOutcome> {
  if (!c.download?.length) {
    throw environmentError(
      `${c.name} ${c.version}: the manifest pins no release artifact with a checksum, so it can only be built`,
      'install Go and let setup build it from its Go module: `firedrill setup --from build`',
    );
  }
  const scratch = await mkdtemp(join(outDir, '..', '.download-'));
  try {
    for (const [i, artifact] of c.download.entries()) {
      const file = join(scratch, `artifact-${i}`);
      log(`downloading ${artifact.url}`);
      const actual = await fetchTo(artifact.url, file, c.name);
      if (actual !== artifact.sha256) {
        throw failure(
          `${c.name} ${c.version}: sha256 mismatch for ${artifact.url}: expected ${artifact.sha256}, got ${actual}; the file was discarded`,
          'retry (a proxy may have served a truncated file); if upstream re-published the artifact, review and update harness/components.json',
        );
      }
      if (artifact.format === 'raw') {
        const [binary] = Object.keys(artifact.files);
        await rename(file, join(outDir, binary!));
        continue;
      }
      const unpacked = join(scratch, `unpacked-${i}`);
      await mkdir(unpacked);
      await run(['tar', '-xzf', file, '-C', unpacked, '--no-same-owner']);
      for (const [binary, member] of Object.entries(artifact.files)) await rename(join(unpacked, member), join(outDir, binary));
    }
    for (const binary of Object.keys(c.binaries)) await chmod(join(outDir, binary), 0o755);
    const expect = Object.fromEntries(Object.entries(c.binaries).map(([b, s]) => [b, expand(s.versionCheck.expect, c.version)]));
    return { origin: c.download.map((a) => a.url).join(' '), substitutions: [], expect };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

async function fetchTo(url: string, file: string, component: string): Promise<string> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(15 * 60_000), redirect: 'follow' });
  } catch (e) {
    throw failure(`${component}: cannot download ${url}: ${(e as Error).message}`, 'check the network, or build from the Go module instead: `firedrill setup --from build`', { cause: e });
  }
  if (!response.ok || !response.body) {
    throw failure(`${component}: ${url} answered HTTP ${response.status}`, 'check that the version in harness/components.json was released for linux/amd64');
  }
  const hash = createHash('sha256');
  const hasher = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
  await pipeline(Readable.fromWeb(response.body), hasher, createWriteStream(file));
  return hash.digest('hex');
}
