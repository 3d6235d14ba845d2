import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { getPriority } from 'node:os';
import { join } from 'node:path';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { z } from 'zod';
import { runCommand } from './command.js';
import { tryParseJson } from '../../../../src/json.js';
import { COREDNS_IMAGE } from '../addons.js';
import { isRunning, startProcess, stopPids } from '../processes.js';
import { type CniConfig, cniAdd, cniDel, type Sandbox } from './cni.js';

/** A pod as this node realises it: a network namespace wired by CNI, and a process per container that has a program. */
export const SandboxRecord = z.object({
  uid: z.string(),
  namespace: z.string(),
  name: z.string(),
  netns: z.string(),
  containerId: z.string(),
  ip: z.string(),
  createdAt: z.string(),
  containers: z.record(
    z.string(),
    z.object({
      pid: z.number().optional(),
      startTicks: z.string().optional(),
      startedAt: z.string(),
      restartCount: z.number(),
    }),
  ),
});
export type SandboxRecord = z.infer<typeof SandboxRecord>;

export interface RuntimeConfig {
  lab: string;
  cni: CniConfig;
  podsDir: string;
  /** image repository -> the binary that runs it; containers of other images have no process. */
  programs: Record<string, string>;
  netnsFor: (uid: string) => string;
  /** Reads a ConfigMap for a configMap volume. */
  configMap: (namespace: string, name: string) => Promise<Record<string, string>>;
}

const sandboxFile = (cfg: RuntimeConfig, uid: string) => join(cfg.podsDir, uid, 'sandbox.json');

export async function listSandboxes(cfg: RuntimeConfig): Promise<SandboxRecord[]> {
  const uids = await readdir(cfg.podsDir).catch(() => [] as string[]);
  const records = await Promise.all(uids.map((uid) => readSandbox(cfg, uid)));
  return records.filter((r): r is SandboxRecord => r !== undefined);
}

export async function readSandbox(cfg: RuntimeConfig, uid: string): Promise<SandboxRecord | undefined> {
  const raw = await readFile(sandboxFile(cfg, uid), 'utf8').catch(() => undefined);
  const parsed = SandboxRecord.safeParse(raw && tryParseJson(raw));
  return parsed.success ? parsed.data : undefined;
}

async function saveSandbox(cfg: RuntimeConfig, record: SandboxRecord): Promise<void> {
  await writeFile(sandboxFile(cfg, record.uid), JSON.stringify(record, null, 2));
}

const sandboxOf = (r: Pick<SandboxRecord, 'uid' | 'namespace' | 'name' | 'netns' | 'containerId'>): Sandbox => ({
  containerId: r.containerId,
  netnsPath: `/run/netns/${r.netns}`,
  podNamespace: r.namespace,
  podName: r.name,
  podUid: r.uid,
});

/** Creates the pod's namespace and runs CNI ADD; on failure nothing is left behind (the caller retries later). */
export async function createSandbox(cfg: RuntimeConfig, pod: V1Pod): Promise<SandboxRecord> {
  const uid = pod.metadata!.uid!;
  const record: SandboxRecord = {
    uid,
    namespace: pod.metadata!.namespace!,
    name: pod.metadata!.name!,
    netns: cfg.netnsFor(uid),
    containerId: randomBytes(32).toString('hex'),
    ip: '',
    createdAt: new Date().toISOString(),
    containers: {},
  };
  await mkdir(join(cfg.podsDir, uid), { recursive: true });
  await runCommand(['ip', 'netns', 'add', record.netns]);
  try {
    await runCommand(['ip', '-n', record.netns, 'link', 'set', 'lo', 'up']);
    const result = await cniAdd(cfg.cni, sandboxOf(record));
    const ip = result.ips?.find((i) => i.address.includes('.'))?.address.split('/')[0];
    if (!ip) throw new Error(`CNI ADD returned no IPv4 address: ${JSON.stringify(result)}`);
    record.ip = ip;
    await saveSandbox(cfg, record);
    return record;
  } catch (e) {
    await cniDel(cfg.cni, sandboxOf(record)).catch(() => undefined);
    await runCommand(['ip', 'netns', 'del', record.netns], { check: false });
    await rm(join(cfg.podsDir, uid), { recursive: true, force: true });
    throw e;
  }
}

/** Stops the pod's processes, runs CNI DEL and removes its namespace and record. */
export async function removeSandbox(cfg: RuntimeConfig, record: SandboxRecord): Promise<void> {
  const pids = Object.values(record.containers).flatMap((c) => (c.pid ? [c.pid] : []));
  await stopPids(pids, 2000);
  await cniDel(cfg.cni, sandboxOf(record)).catch((e: Error) => {
    // DEL must not block removal: a fault on the node (cni0 gone) makes the bridge plugin's DEL fail.
    console.log(`${record.namespace}/${record.name}: CNI DEL failed, removing the namespace anyway: ${e.message}`);
  });
  await runCommand(['ip', 'netns', 'del', record.netns], { check: false });
  await rm(join(cfg.podsDir, record.uid), { recursive: true, force: true });
}

/** Starts (or restarts) every container of the pod that has a program and is not running. Returns true if anything changed. */
export async function ensureContainers(cfg: RuntimeConfig, pod: V1Pod, record: SandboxRecord): Promise<boolean> {
  let changed = false;
  for (const container of pod.spec?.containers ?? []) {
    const state = record.containers[container.name];
    if (state && (state.pid === undefined || (await isRunning(state.pid, state.startTicks)))) continue;
    const program = programFor(cfg, container);
    const started = new Date().toISOString();
    if (!program) {
      record.containers[container.name] = { startedAt: started, restartCount: 0 };
    } else {
      const argv = await containerArgv(cfg, pod, container, program);
      const proc = await startProcess({
        lab: cfg.lab,
        name: `${record.namespace}/${record.name}/${container.name}`,
        netns: record.netns,
        argv,
        log: join(cfg.podsDir, record.uid, `${container.name}.log`),
        // A pod runs at its node's priority, in a session of its own.
        nice: getPriority(),
      });
      record.containers[container.name] = {
        pid: proc.pid,
        startTicks: proc.startTicks,
        startedAt: started,
        restartCount: state ? state.restartCount + 1 : 0,
      };
    }
    changed = true;
  }
  if (changed) await saveSandbox(cfg, record);
  return changed;
}

function programFor(cfg: RuntimeConfig, container: V1Container): string | undefined {
  const repository = (container.image ?? '').replace(/[:@].*$/, '');
  return cfg.programs[repository];
}

/**
 * The container's command line with each volume mount path replaced by the directory the
 * volume is materialised in (lab pods share the node's filesystem: no mount namespace).
 */
async function containerArgv(cfg: RuntimeConfig, pod: V1Pod, container: V1Container, program: string): Promise<string[]> {
  const mounts: [string, string][] = [];
  for (const mount of container.volumeMounts ?? []) {
    const volume = pod.spec?.volumes?.find((v) => v.name === mount.name);
    if (!volume?.configMap?.name) continue;
    const dir = join(cfg.podsDir, pod.metadata!.uid!, 'volumes', mount.name);
    await mkdir(dir, { recursive: true });
    const data = await cfg.configMap(pod.metadata!.namespace!, volume.configMap.name);
    const items = volume.configMap.items ?? Object.keys(data).map((key) => ({ key, path: key }));
    for (const item of items) await writeFile(join(dir, item.path), data[item.key] ?? '');
    mounts.push([mount.mountPath, dir]);
  }
  const args = [...(container.command?.slice(1) ?? []), ...(container.args ?? [])];
  return [program, ...args.map((a) => mounts.reduce((s, [from, to]) => (s.startsWith(from) ? to + s.slice(from.length) : s), a))];
}

export const defaultPrograms = (coredns: string) => ({ [COREDNS_IMAGE]: coredns });
