import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { type Manifest } from '../components.js';
import { packageInfo } from '../package-info.js';
import { type ImageKey } from './names.js';
import { type ImageSpec, IMAGE_SPECS, parentsOf } from './specs.js';

/** harness/images/files: the Dockerfiles and scripts (read from the source tree, also when running from dist/). */
export function filesDir(): string {
  return join(packageInfo().root, 'harness', 'images', 'files');
}

const sha = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 16);

/**
 * The hash of what harness/components.json pins (every image built from it carries it): versions,
 * build recipes and artifacts, not the prose or the measured build times, so a README-level edit of
 * the manifest rebuilds no image.
 */
export function manifestHash(m: Manifest): string {
  const pins = { ...m, $comment: undefined, components: Object.fromEntries(Object.entries(m.components).map(([name, c]) => [name, { ...c, description: undefined, build: { ...c.build, coldBuildSeconds: undefined } }])) };
  return sha(JSON.stringify(pins));
}

/**
 * Bump when the build steps written in TypeScript change (rootfs cleanup, node image steps), so
 * images built the old way are rebuilt.
 */
const RECIPE = 1;

/**
 * Per image, a hash of everything that goes into it: its spec, the Dockerfile and files it copies
 * (content and mode), its parents' hashes, and — except for the Debian root file systems, which
 * depend only on their package lists — the manifest. An image is reused exactly when it carries
 * this hash.
 */
export async function inputHashes(m: Manifest, specs: readonly ImageSpec[] = IMAGE_SPECS): Promise<Record<ImageKey, string>> {
  const out = {} as Record<ImageKey, string>;
  const manifest = manifestHash(m);
  for (const spec of specs) {
    const parents = parentsOf(spec).map((p) => {
      const h = out[p];
      if (!h) throw new Error(`image spec order: ${spec.key} comes before its parent ${p}`);
      return [p, h];
    });
    const files = spec.how === 'dockerfile' ? await treeDigest([join(filesDir(), spec.dir), ...Object.values(spec.shared ?? {}).map((f) => join(filesDir(), f))]) : '';
    out[spec.key] = sha(JSON.stringify({ RECIPE, spec, files, parents, manifest: spec.how === 'debootstrap' ? '' : manifest }));
  }
  return out;
}

/** Content and mode of every file under the given paths. */
async function treeDigest(paths: string[]): Promise<string> {
  const h = createHash('sha256');
  for (const root of paths) {
    for (const file of await listFiles(root)) {
      const s = await stat(file);
      h.update(`${relative(filesDir(), file)}\0${s.mode & 0o7777}\0`);
      h.update(await readFile(file));
    }
  }
  return h.digest('hex');
}

export async function listFiles(path: string): Promise<string[]> {
  const s = await stat(path);
  if (!s.isDirectory()) return [path];
  const entries = (await readdir(path, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
  const out: string[] = [];
  for (const e of entries) out.push(...(await listFiles(join(path, e.name))));
  return out;
}
