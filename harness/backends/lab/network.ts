import { run } from '../../../src/exec.js';
import { type NodeLayout, UNDERLAY_PREFIX, underlayNetns } from './layout.js';

/**
 * The lab's "hardware": an underlay namespace holding bridge br0 (kind's docker network)
 * and one namespace per node with eth0 on it. Nothing is configured in the host's own
 * namespace. Underlay neighbours are permanent: the kernel's neighbour table is shared by
 * all namespaces and its garbage collector would overflow at a few dozen nodes.
 */
export async function createNodesAndUnderlay(lab: string, nodes: NodeLayout[]): Promise<void> {
  const underlay = underlayNetns(lab);
  await ipBatch([], [`netns add ${underlay}`, ...nodes.map((n) => `netns add ${n.netns}`)]);
  await ipBatch(
    ['-n', underlay],
    [
      'link set lo up',
      'link add br0 type bridge',
      'link set br0 up',
      ...nodes.flatMap((n) => [
        `link add ${n.uplink} type veth peer name eth0 address ${n.mac} netns ${n.netns}`,
        `link set ${n.uplink} master br0 up`,
      ]),
    ],
  );
  await Promise.all(
    nodes.map(async (n) => {
      await ipBatch(
        ['-n', n.netns],
        [
          'link set lo up',
          `addr add ${n.ip}/${UNDERLAY_PREFIX} dev eth0`,
          'link set eth0 up',
          ...nodes.filter((p) => p !== n).map((p) => `neigh replace ${p.ip} lladdr ${p.mac} dev eth0 nud permanent`),
        ],
      );
      // What a kind node's container runtime sets up before kubelet starts: forwarding on, and
      // bridged traffic through iptables (flanneld exits without bridge-nf-call-iptables).
      // nsenter, not ip netns exec: /proc/sys/net follows the network namespace alone, and
      // ip netns exec's private mount namespace and /sys remount cost ~10 ms a node.
      await run(['nsenter', `--net=/run/netns/${n.netns}`, '--', 'sysctl', '-qw', 'net.ipv4.ip_forward=1', 'net.bridge.bridge-nf-call-iptables=1']);
    }),
  );
}

/** Names of the network namespaces that exist now. */
export async function listNetns(): Promise<string[]> {
  const r = await run(['ip', '-j', 'netns', 'list'], { check: false });
  if (r.exitCode !== 0 || !r.stdout.trim()) return [];
  return (JSON.parse(r.stdout) as { name: string }[]).map((n) => n.name);
}

/** Deletes namespaces that exist (after their processes are gone), in one ip call. */
export async function deleteNetns(names: string[]): Promise<void> {
  const existing = new Set(await listNetns());
  const present = names.filter((n) => existing.has(n));
  if (present.length) await ipBatch(['-force'], present.map((n) => `netns del ${n}`), false);
}

async function ipBatch(prefix: string[], lines: string[], check = true): Promise<void> {
  await run(['ip', ...prefix, '-b', '-'], { input: `${lines.join('\n')}\n`, check });
}
