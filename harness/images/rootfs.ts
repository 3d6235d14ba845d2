import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../../src/exec.js';
import { environmentError, failure } from '../errors.js';

export const DEBIAN_SUITE = 'bookworm';

/**
 * The Debian mirror this machine's apt uses for the suite (one-line sources.list or deb822
 * .sources files), so debootstrap reaches what apt-get reaches.
 */
export async function debianMirror(suite = DEBIAN_SUITE, etc = '/etc/apt'): Promise<string> {
  const files = [join(etc, 'sources.list'), ...(await readdir(join(etc, 'sources.list.d')).catch(() => [])).map((f) => join(etc, 'sources.list.d', f))];
  for (const file of files) {
    if (!/(\.list|\.sources)$/.test(file)) continue;
    const text = await readFile(file, 'utf8').catch(() => '');
    const mirror = file.endsWith('.sources') ? fromDeb822(text, suite) : fromOneLine(text, suite);
    if (mirror) return mirror;
  }
  throw environmentError(`no Debian mirror for ${suite} in ${etc}/sources.list or ${etc}/sources.list.d/`, `add one (e.g. "deb http://deb.debian.org/debian ${suite} main") so apt and debootstrap can reach Debian`);
}

function fromOneLine(text: string, suite: string): string | undefined {
  for (const line of text.split('\n')) {
    const m = /^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/.exec(line);
    if (m && m[2] === suite) return m[1];
  }
  return undefined;
}

function fromDeb822(text: string, suite: string): string | undefined {
  for (const stanza of text.split(/\n\s*\n/)) {
    const field = (name: string) => new RegExp(`^${name}:\\s*(.+)$`, 'mi').exec(stanza)?.[1]?.trim().split(/\s+/) ?? [];
    if (/^enabled:\s*no/im.test(stanza)) continue;
    if (field('Types').includes('deb') && field('Suites').includes(suite)) return field('URIs')[0];
  }
  return undefined;
}

/** What kind's clean-install removes after installing packages, plus translations: nothing a node or pod reads. */
const TRIM = ['var/lib/apt/lists', 'var/cache/apt', 'var/cache/debconf', 'var/log', 'tmp', 'var/tmp', 'usr/share/doc', 'usr/share/doc-base', 'usr/share/man', 'usr/share/info', 'usr/share/locale'];

/**
 * `debootstrap --variant=minbase` with the packages, into `target`; downloaded packages are kept
 * in `debCache` so a rebuild fetches nothing it already has. Then the root file system is trimmed
 * and packed into `tarFile` (numeric owners, file capabilities kept: ping needs cap_net_raw).
 */
export async function debootstrap(o: { target: string; tarFile: string; packages: string[]; mirror: string; debCache: string; log: (line: string) => void }): Promise<void> {
  await mkdir(o.debCache, { recursive: true });
  const argv = ['debootstrap', '--variant=minbase', `--cache-dir=${o.debCache}`, `--include=${o.packages.join(',')}`, DEBIAN_SUITE, o.target, o.mirror];
  try {
    const r = await run(argv, { timeoutMs: 1_800_000 });
    o.log(r.stdout + r.stderr);
  } catch (e) {
    const missing = e instanceof Error && /could not start/.test(e.message);
    throw (missing ? environmentError : failure)(
      `debootstrap of Debian ${DEBIAN_SUITE} failed: ${e instanceof Error ? e.message : String(e)}`,
      missing ? 'install debootstrap (./ci/setup does), and run as root' : `check that ${o.mirror} is reachable (apt-get update works) and that firedrill runs as root`,
      { cause: e },
    );
  }
  for (const dir of TRIM) {
    const path = join(o.target, dir);
    for (const entry of await readdir(path).catch(() => [])) await rm(join(path, entry), { recursive: true, force: true });
  }
  await run(['tar', '-C', o.target, '--numeric-owner', '--xattrs', '--xattrs-include=security.capability', '-cf', o.tarFile, '.'], { timeoutMs: 600_000 });
}

/** Removes a directory holding root file systems: debootstrap mounts /proc and /sys inside its target, so whatever is still mounted below is unmounted first. */
export async function removeRootfs(target: string): Promise<void> {
  const mounts = (await readFile('/proc/self/mounts', 'utf8').catch(() => ''))
    .split('\n')
    .map((l) => l.split(' ')[1]?.replaceAll('\\040', ' '))
    .filter((p): p is string => !!p && (p === target || p.startsWith(`${target}/`)))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) await run(['umount', '-l', m], { check: false });
  await rm(target, { recursive: true, force: true });
}
