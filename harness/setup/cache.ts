import { access, chmod, constants, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { tryParseJson } from '../../src/json.js';
import { type Component } from '../components.js';
import { environmentError } from '../errors.js';
import { verifyVersion } from './verify.js';
import { isAlive } from '../pid.js';

/** The cache root: $FIREDRILL_CACHE, else $XDG_CACHE_HOME/firedrill, else ~/.cache/firedrill. */
export function defaultCacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.FIREDRILL_CACHE) return env.FIREDRILL_CACHE;
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'firedrill');
}

const META = 'firedrill-component.json';

export const InstallMeta = z.object({
  component: z.string(),
  version: z.string(),
  source: z.enum(['built', 'downloaded']),
  /** What was built or fetched: `go build <module>@<version>` or the artifact URLs. */
  origin: z.string(),
  /** Set when the pinned module was not available and a documented substitute was used. */
  substitutions: z.array(z.string()),
  /** binary -> the text its version output must contain. */
  expect: z.record(z.string(), z.string()),
  createdAt: z.string(),
  seconds: z.number(),
});
export type InstallMeta = z.infer<typeof InstallMeta>;

export function componentDir(root: string, c: Pick<Component, 'name' | 'version'>): string {
  return join(root, c.name, c.version);
}

export function binaryPath(root: string, c: Pick<Component, 'name' | 'version'>, binary: string): string {
  return join(componentDir(root, c), 'bin', binary);
}

export type CacheState =
  | { state: 'ok'; path: string; meta: InstallMeta }
  | { state: 'missing'; path: string }
  | { state: 'broken'; path: string; reason: string };

/** Is the component installed, complete, and does every binary report the pinned version? */
export async function inspect(root: string, c: Component): Promise<CacheState> {
  const path = componentDir(root, c);
  let raw: string;
  try {
    raw = await readFile(join(path, META), 'utf8');
  } catch {
    return { state: 'missing', path };
  }
  const parsed = InstallMeta.safeParse(tryParseJson(raw));
  if (!parsed.success) return { state: 'broken', path, reason: `${META} is unreadable` };
  const meta = parsed.data;
  for (const binary of Object.keys(c.binaries)) {
    const file = join(path, 'bin', binary);
    const expect = meta.expect[binary];
    if (!expect) return { state: 'broken', path, reason: `${META} has no version for ${binary}` };
    try {
      await access(file, constants.X_OK);
    } catch {
      return { state: 'broken', path, reason: `${binary} is missing or not executable` };
    }
    const problem = await verifyVersion(file, c.binaries[binary]!.versionCheck.args, expect);
    if (problem) return { state: 'broken', path, reason: problem };
  }
  return { state: 'ok', path, meta };
}

/**
 * A private directory beside the final one, so that the install is one rename:
 * a reader never sees a half-written component.
 */
export async function makeStaging(root: string, c: Component): Promise<string> {
  await mkdir(root, { recursive: true });
  const dir = await mkdtemp(join(root, `.staging-${c.name}-${process.pid}-`));
  await mkdir(join(dir, 'bin'));
  return dir;
}

export async function install(root: string, c: Component, staging: string, meta: InstallMeta): Promise<string> {
  await writeFile(join(staging, META), `${JSON.stringify(meta, null, 2)}\n`);
  const final = componentDir(root, c);
  await mkdir(join(root, c.name), { recursive: true });
  await rm(final, { recursive: true, force: true });
  await chmod(staging, 0o755);
  await rename(staging, final);
  return final;
}

/** Removes staging directories whose setup process is gone (killed mid-build). */
export async function removeStaleStaging(root: string): Promise<string[]> {
  let entries: string[];
  try {
    entries = await readdir(root);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of entries) {
    const m = /^\.staging-.+-(\d+)-\w+$/.exec(name);
    if (!m || isAlive(Number(m[1]))) continue;
    await rm(join(root, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

/** The path of an installed binary, or an error that says to run setup. */
export async function requireBinary(root: string, c: Component, binary: string): Promise<string> {
  const state = await inspect(root, c);
  if (state.state !== 'ok') {
    const why = state.state === 'broken' ? `is broken (${state.reason})` : 'is not set up';
    throw environmentError(
      `${c.name} ${c.version} ${why} in ${root}`,
      'run `firedrill setup` (builds or downloads the pinned components)',
    );
  }
  return binaryPath(root, c, binary);
}
