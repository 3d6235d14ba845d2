import { chmod, copyFile, cp, mkdir, readFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { run } from '../../src/exec.js';
import { failure } from '../errors.js';
import { type Binaries, goModuleDir } from './binaries.js';
import { filesDir, listFiles } from './inputs.js';
import { KIND_SANDBOX_IMAGE } from './names.js';
import { type ImageSpec } from './specs.js';

type DockerfileSpec = Extract<ImageSpec, { how: 'dockerfile' }>;

/**
 * Lays out a build context in `dir` (the Dockerfile and files from harness/images/files, the
 * binaries, kind's base files) and packs it into an uncompressed tar for the build API.
 */
export async function buildContext(spec: DockerfileSpec, dir: string, binaries: Binaries, kindVersion: string): Promise<string> {
  await cp(join(filesDir(), spec.dir), dir, { recursive: true });
  for (const [to, from] of Object.entries(spec.shared ?? {})) await copyInto(join(filesDir(), from), join(dir, to));
  for (const [to, source] of Object.entries(spec.binaries)) {
    await copyInto(await binaries.path(source), join(dir, to));
    await chmod(join(dir, to), 0o755);
  }
  for (const [path, mode] of Object.entries(spec.dirs ?? {})) {
    await mkdir(join(dir, path), { recursive: true });
    await chmod(join(dir, path), mode);
  }
  if (spec.kindBaseFiles) await kindBaseFiles(kindVersion, join(dir, 'kind-files'));
  const tar = `${dir}.tar`;
  await run(['tar', '-C', dir, '--numeric-owner', '-cf', tar, '.'], { timeoutMs: 600_000 });
  return tar;
}

async function copyInto(from: string, to: string): Promise<void> {
  await mkdir(dirname(to), { recursive: true });
  await copyFile(from, to);
}

/**
 * kind's images/base/files from the sigs.k8s.io/kind module, with the modes kind's Dockerfile
 * gives them (COPY --chmod, which the legacy builder lacks): scripts 0755, everything else 0644.
 * Checks that kind's containerd config names the sandbox image firedrill builds.
 */
async function kindBaseFiles(kindVersion: string, to: string): Promise<void> {
  const from = join(await goModuleDir('sigs.k8s.io/kind', kindVersion), 'images', 'base', 'files');
  await cp(from, to, { recursive: true });
  // The module cache is read-only: directories 0755, files 0644, then the scripts 0755.
  await run(['chmod', '-R', 'u=rwX,go=rX', to]);
  for (const file of await listFiles(to)) {
    if (/^(usr\/local\/bin|kind\/bin)\//.test(relative(to, file))) await chmod(file, 0o755);
  }
  const config = await readFile(join(to, 'etc', 'containerd', 'config.toml'), 'utf8');
  const sandbox = /sandbox_image\s*=\s*"([^"]+)"/.exec(config)?.[1];
  if (sandbox !== KIND_SANDBOX_IMAGE) {
    throw failure(
      `kind ${kindVersion}'s containerd config names sandbox image ${sandbox ?? '(none)'}, firedrill builds ${KIND_SANDBOX_IMAGE}`,
      'update KIND_SANDBOX_IMAGE in harness/images/names.ts to the kind version in harness/components.json',
    );
  }
}
