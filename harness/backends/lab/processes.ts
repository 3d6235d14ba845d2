import { spawn } from 'node:child_process';
import { open, readdir, readFile, writeFile } from 'node:fs/promises';
import { setPriority } from 'node:os';
import { z } from 'zod';
import { joinCpuGroup } from './cpu-group.js';

/** The environment variable that labels every process a lab starts, so prune finds them after a crash. */
export const LAB_LABEL = 'FIREDRILL_LAB';

export const ProcessRecord = z.object({
  name: z.string(),
  node: z.string().optional(),
  pid: z.number().int().positive(),
  /** Start time in clock ticks since boot (/proc/PID/stat field 22): tells a reused pid apart. */
  startTicks: z.string(),
  log: z.string(),
  /** The full argv, namespace wrapper included: enough to start it again. */
  argv: z.array(z.string()),
  env: z.record(z.string(), z.string()).default({}),
  nice: z.number().int().min(-20).max(19).default(0),
  /** The CPU cgroup it runs in, when not this process's (see cpu-group.ts). */
  cpuGroup: z.string().optional(),
});
export type ProcessRecord = z.infer<typeof ProcessRecord>;

export interface StartSpec {
  lab: string;
  name: string;
  node?: string;
  /** Run inside this network namespace (ip netns exec), as the component would run on that node. */
  netns?: string;
  /**
   * Keep the host's mount namespace (nsenter) instead of ip netns exec's private one: a
   * process that itself creates network namespaces (the lab kubelet) must mount them where
   * everyone sees them.
   */
  hostMounts?: boolean;
  argv: string[];
  env?: Record<string, string>;
  log: string;
  /** Its CPU niceness, and that of everything it starts (see `setNiceness`). */
  nice?: number;
  /** The CPU cgroup it runs in, and everything it starts (see cpu-group.ts). */
  cpuGroup?: string;
}

/**
 * Starts a long-running component detached from this process (it outlives `lab up`),
 * its output appended to its log, labelled with the lab's name.
 */
export async function startProcess(spec: StartSpec): Promise<ProcessRecord> {
  const argv = !spec.netns
    ? spec.argv
    : spec.hostMounts
      ? ['nsenter', `--net=/run/netns/${spec.netns}`, '--', ...spec.argv]
      : ['ip', 'netns', 'exec', spec.netns, ...spec.argv];
  // node's spawn, not execa: execa pipes a child's output through this process even when
  // asked to write it to a file, and a daemon would die of SIGPIPE once `lab up` exits.
  const log = await open(spec.log, 'a');
  try {
    const child = spawn(argv[0]!, argv.slice(1), {
      detached: true,
      stdio: ['ignore', log.fd, log.fd],
      env: {
        PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
        HOME: process.env.HOME ?? '/root',
        [LAB_LABEL]: spec.lab,
        FIREDRILL_COMPONENT: spec.name,
        ...spec.env,
      },
    });
    child.unref();
    const pid = child.pid;
    if (!pid) {
      const error = await new Promise<Error | undefined>((resolve) => child.once('error', resolve));
      throw new Error(`${spec.name}: could not start ${argv.join(' ')}: ${error?.message ?? 'no pid'}`);
    }
    child.once('error', () => undefined);
    const nice = spec.nice ?? 0;
    if (spec.cpuGroup) await joinCpuGroup(spec.cpuGroup, spec.name, pid);
    if (nice) await setNiceness(spec.name, pid, nice);
    return { name: spec.name, node: spec.node, pid, startTicks: (await startTicks(pid)) ?? '', log: spec.log, argv, env: spec.env ?? {}, nice, ...(spec.cpuGroup ? { cpuGroup: spec.cpuGroup } : {}) };
  } finally {
    await log.close();
  }
}

/** Stops a recorded process and starts it again the same way (a `systemctl restart`). */
export async function restartProcess(lab: string, record: ProcessRecord): Promise<ProcessRecord> {
  if (await isRunning(record.pid, record.startTicks)) await stopPids([record.pid], 2000);
  return startProcess({ lab, name: record.name, ...(record.node ? { node: record.node } : {}), argv: record.argv, env: record.env, log: record.log, nice: record.nice, ...(record.cpuGroup ? { cpuGroup: record.cpuGroup } : {}) });
}

/**
 * Sets a process's niceness, and its session's. A detached process leads a session of
 * its own, and with autogroup scheduling (Linux's default) the kernel shares the CPU between sessions
 * first: a process's own niceness then only ranks it within its session. A process (or thread) that
 * is already gone is left to the caller's liveness checks.
 */
export async function setNiceness(name: string, pid: number, nice: number): Promise<void> {
  const failed = (e: unknown) => new Error(`${name} (pid ${pid}): could not set its CPU niceness to ${nice}: ${e instanceof Error ? e.message : String(e)}`);
  // Niceness is per thread, and a Go program has started several by now.
  const threads = await readdir(`/proc/${pid}/task`).catch(() => []);
  for (const tid of threads) {
    try {
      setPriority(Number(tid), nice);
    } catch (e) {
      if ((e as { info?: { code?: string } }).info?.code !== 'ESRCH') throw failed(e);
    }
  }
  // Absent without autogroup scheduling (then the process's own niceness is what counts) or once it is gone.
  await writeFile(`/proc/${pid}/autogroup`, String(nice)).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'ENOENT') throw failed(e);
  });
}

export async function startTicks(pid: number): Promise<string | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  return stat?.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
}

/** Alive and not a zombie (a killed process can stay a zombie for a while before it is reaped). */
export async function isRunning(pid: number, ticks?: string): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (!stat) return false;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (fields[0] === 'Z' || fields[0] === 'X') return false;
  return ticks === undefined || ticks === '' || fields[19] === ticks;
}

/** Pids of every process labelled with this lab (or any lab when `lab` is undefined), with their label. */
export async function labelledProcesses(lab?: string): Promise<{ pid: number; lab: string; component: string }[]> {
  const found: { pid: number; lab: string; component: string }[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const environ = await readFile(`/proc/${entry}/environ`, 'utf8').catch(() => '');
    if (!environ.includes(`${LAB_LABEL}=`)) continue;
    const vars = new Map(environ.split('\0').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
    const label = vars.get(LAB_LABEL);
    if (label && (lab === undefined || label === lab)) found.push({ pid: Number(entry), lab: label, component: vars.get('FIREDRILL_COMPONENT') ?? '?' });
  }
  return found;
}

/** SIGTERM, wait up to `graceMs` for each to stop running, then SIGKILL what is left. */
export async function stopPids(pids: number[], graceMs = 1500): Promise<void> {
  const signal = (pid: number, sig: NodeJS.Signals) => {
    try {
      process.kill(pid, sig);
    } catch {
      // already gone
    }
  };
  for (const pid of pids) signal(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  let alive = pids;
  while (alive.length && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
    alive = (await Promise.all(alive.map(async (p) => ((await isRunning(p)) ? p : 0)))).filter(Boolean);
  }
  for (const pid of alive) signal(pid, 'SIGKILL');
}
