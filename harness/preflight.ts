import { readFileSync } from 'node:fs';
import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { environmentError } from './errors.js';

/** Exits 3 with a clear message unless running as root. */
export function requireRoot(what: string): void {
  if (process.getuid?.() !== 0) {
    throw environmentError(`${what} needs root (it creates network namespaces and runs the cluster's components)`, 'run it as root, e.g. `sudo npx firedrill …`');
  }
}

/** Which Debian package provides each tool firedrill runs. */
const packages: Record<string, string> = {
  ip: 'iproute2',
  bridge: 'iproute2',
  iptables: 'iptables',
  'iptables-save': 'iptables',
  nft: 'nftables',
  conntrack: 'conntrack',
  socat: 'socat',
  openssl: 'openssl',
  fping: 'fping',
  busybox: 'busybox',
  sysctl: 'procps',
  nsenter: 'util-linux',
};

/** Exits 3 naming every missing tool and the package that provides it. */
export async function requireTools(tools: string[]): Promise<void> {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  const missing: string[] = [];
  for (const tool of tools) {
    const found = await Promise.any(dirs.map((d) => access(join(d, tool), constants.X_OK))).then(
      () => true,
      () => false,
    );
    if (!found) missing.push(tool);
  }
  if (missing.length) {
    const pkgs = [...new Set(missing.map((t) => packages[t] ?? t))];
    throw environmentError(`missing tools: ${missing.join(', ')}`, `install them: apt-get install ${pkgs.join(' ')} (or run ./ci/setup)`);
  }
}

/**
 * Every kubelet, containerd and kube-proxy of every lab and kind node holds inotify instances of
 * this one kernel, as root: the default limit (128) runs out with a kind cluster and a lab side by
 * side, and a component then fails with "too many open files".
 */
export function warnOnLowInotifyLimit(say: (line: string) => void): void {
  const limit = Number(readFileSync('/proc/sys/fs/inotify/max_user_instances', 'utf8'));
  if (limit < 512) say(`warning: fs.inotify.max_user_instances is ${limit}; clusters side by side run out of it ("too many open files"): \`sysctl -w fs.inotify.max_user_instances=1024\` (ci/setup does it)`);
}
