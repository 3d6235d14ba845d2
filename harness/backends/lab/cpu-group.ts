import { mkdir, readdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * A lab's flanneld in one idle CPU cgroup (cpu.idle, Linux 5.15 and later, v1 and v2). Each of them
 * leads a session, and with autogroup scheduling every session is weighed as one: niceness 19 leaves
 * fifty flanneld at fifty times the weight of one, and their iptables checks (every 5 s) took a
 * fifth of the machine from firedrill's reads of a 50-node lab. In an idle group they run only when
 * nothing else wants the CPU, as if they ran on nodes of their own. Measured side by side on one
 * 50-node lab (medians of five `doctor` reads, three rounds): 2.61 / 1.69 / 2.04 s outside the group,
 * 1.79 / 1.60 / 1.76 s in it. A group of the lowest weight without cpu.idle (cpu.shares 2) did not
 * help (1.67 / 1.97 / 1.91 s against 1.72 / 2.04 / 1.73 s), which is why the group is idle or not
 * made at all.
 */
const GROUP_PREFIX = 'firedrill-lab-';

/**
 * Where the cpu controller is mounted and may be given a child: a cgroup v1 hierarchy with the cpu
 * controller, or the cgroup v2 root with cpu delegated to its children. Undefined in a container
 * without a writable cgroup file system, or when v2's root does not hand cpu down.
 */
async function cpuHierarchy(): Promise<string | undefined> {
  const mounts = await readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
  let v2: string | undefined;
  for (const line of mounts.split('\n')) {
    const [before, after] = line.split(' - ');
    if (!before || !after) continue;
    const mountPoint = before.split(' ')[4]!;
    const [fsType, , superOptions = ''] = after.split(' ');
    if (fsType === 'cgroup' && superOptions.split(',').includes('cpu')) return mountPoint;
    if (fsType === 'cgroup2') v2 ??= mountPoint;
  }
  if (!v2) return undefined;
  const delegated = await readFile(join(v2, 'cgroup.subtree_control'), 'utf8').catch(() => '');
  return delegated.split(/\s+/).includes('cpu') ? v2 : undefined;
}

const groupIn = (hierarchy: string, lab: string) => join(hierarchy, `${GROUP_PREFIX}${lab}`);

/**
 * Creates the lab's group (or finds it) and returns its path; undefined where the machine has none
 * to give (see cpuHierarchy) or its kernel no cpu.idle, and the daemons keep their niceness alone.
 */
export async function labCpuGroup(lab: string): Promise<string | undefined> {
  const hierarchy = await cpuHierarchy();
  if (!hierarchy) return undefined;
  const group = groupIn(hierarchy, lab);
  try {
    await mkdir(group, { recursive: true });
    await writeFile(join(group, 'cpu.idle'), '1');
    return group;
  } catch {
    // A read-only cgroup file system (a container), or a kernel before 5.15.
    await rmdir(group).catch(() => undefined);
    return undefined;
  }
}

/** Moves a process (every thread of it) into a group; what it starts from then on is born there. */
export async function joinCpuGroup(group: string, name: string, pid: number): Promise<void> {
  await writeFile(join(group, 'cgroup.procs'), String(pid)).catch((e: NodeJS.ErrnoException) => {
    // A process already gone is left to the caller's liveness checks.
    if (e.code !== 'ESRCH') throw new Error(`${name} (pid ${pid}): could not move it into the CPU group ${group}: ${e.message}`);
  });
}

/** The labs whose group exists on this machine (prune finds a crashed lab's group by its name). */
export async function labsWithCpuGroup(): Promise<string[]> {
  const hierarchy = await cpuHierarchy();
  if (!hierarchy) return [];
  const entries = await readdir(hierarchy).catch(() => []);
  return entries.filter((e) => e.startsWith(GROUP_PREFIX)).map((e) => e.slice(GROUP_PREFIX.length));
}

/** The lab's group, whether it exists or not; undefined where the machine has none to give. */
export async function cpuGroupPath(lab: string): Promise<string | undefined> {
  const hierarchy = await cpuHierarchy();
  return hierarchy && groupIn(hierarchy, lab);
}

/**
 * Removes the lab's group once its processes are stopped; says whether there was one. A child a
 * daemon started just before it was killed (flanneld's iptables) can still be in it for a moment:
 * it is moved to the parent.
 */
export async function removeCpuGroup(lab: string): Promise<boolean> {
  const group = await cpuGroupPath(lab);
  if (!group) return false;
  for (let attempt = 0; ; attempt++) {
    const procs = await readFile(join(group, 'cgroup.procs'), 'utf8').catch(() => undefined);
    if (procs === undefined) return false;
    for (const pid of procs.split('\n').filter(Boolean)) await writeFile(join(group, '..', 'cgroup.procs'), pid).catch(() => undefined);
    try {
      await rmdir(group);
      return true;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return false;
      if (code !== 'EBUSY' || attempt >= 20) throw new Error(`could not remove the lab's CPU group ${group}: ${(e as Error).message}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
