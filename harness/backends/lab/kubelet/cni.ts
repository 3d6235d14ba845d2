import { access, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { runCommand } from './command.js';
import { tryParseJson } from '../../../../src/json.js';

/**
 * What containerd's CRI does through libcni for one pod sandbox: run each plugin of the
 * node's conflist in order (ADD, each getting the previous result as prevResult) or in
 * reverse (DEL), and cache the ADD result. Only the parts this cluster's conflist uses.
 */
const Conflist = z.object({
  name: z.string(),
  cniVersion: z.string(),
  plugins: z.array(z.looseObject({ type: z.string() })).min(1),
});

const CniResult = z.looseObject({
  ips: z.array(z.looseObject({ address: z.string(), gateway: z.string().optional() })).optional(),
  interfaces: z.array(z.looseObject({ name: z.string(), mac: z.string().optional(), sandbox: z.string().optional() })).optional(),
});
export type CniResult = z.infer<typeof CniResult>;

export interface Sandbox {
  containerId: string;
  netnsPath: string;
  podNamespace: string;
  podName: string;
  podUid: string;
}

export interface CniConfig {
  conflist: string;
  binDir: string;
  cacheDir: string;
}

export async function cniAdd(cfg: CniConfig, sb: Sandbox): Promise<CniResult> {
  const list = await loadConflist(cfg.conflist);
  let prevResult: unknown;
  for (const plugin of list.plugins) {
    prevResult = await invoke(cfg, sb, 'ADD', { ...plugin, cniVersion: list.cniVersion, name: list.name, ...(prevResult ? { prevResult } : {}) });
  }
  const result = CniResult.parse(prevResult);
  await mkdir(cfg.cacheDir, { recursive: true });
  await writeFile(cachePath(cfg, list.name, sb), JSON.stringify({ kind: 'cniCacheV1', containerId: sb.containerId, ifName: 'eth0', networkName: list.name, result }));
  return result;
}

export async function cniDel(cfg: CniConfig, sb: Sandbox): Promise<void> {
  const list = await loadConflist(cfg.conflist);
  // libcni passes prevResult to DEL only from spec 0.4.0 on; this conflist is 0.3.1.
  for (const plugin of [...list.plugins].reverse()) {
    await invoke(cfg, sb, 'DEL', { ...plugin, cniVersion: list.cniVersion, name: list.name });
  }
  await rm(cachePath(cfg, list.name, sb), { force: true });
}

/**
 * Why no sandbox can be wired yet, or undefined when the network is ready: kubelet waits for a
 * CNI config (NetworkReady), and the flannel plugin cannot run before flanneld wrote subnet.env.
 * Waiting here, instead of failing ADDs into a growing backoff, starts pods as soon as flanneld is up.
 */
export async function networkNotReady(cfg: CniConfig): Promise<string | undefined> {
  const list = await loadConflist(cfg.conflist).catch(() => undefined);
  if (!list) return `no CNI config at ${cfg.conflist}`;
  const flannel = list.plugins.find((p) => p.type === 'flannel') as { subnetFile?: string } | undefined;
  const subnetFile = flannel?.subnetFile ?? '/run/flannel/subnet.env';
  if (flannel && !(await access(subnetFile).then(() => true, () => false))) return `flanneld has not written ${subnetFile} yet`;
  return undefined;
}

async function loadConflist(file: string) {
  return Conflist.parse(tryParseJson(await readFile(file, 'utf8')));
}

const cachePath = (cfg: CniConfig, network: string, sb: Sandbox) => join(cfg.cacheDir, `${network}-${sb.containerId}-eth0`);

async function invoke(cfg: CniConfig, sb: Sandbox, command: 'ADD' | 'DEL', conf: Record<string, unknown> & { type: string }): Promise<unknown> {
  const r = await runCommand([join(cfg.binDir, conf.type)], {
    input: JSON.stringify(conf),
    check: false,
    timeoutMs: 60_000,
    env: {
      CNI_COMMAND: command,
      CNI_CONTAINERID: sb.containerId,
      CNI_NETNS: sb.netnsPath,
      CNI_IFNAME: 'eth0',
      CNI_PATH: cfg.binDir,
      CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=${sb.podNamespace};K8S_POD_NAME=${sb.podName};K8S_POD_INFRA_CONTAINER_ID=${sb.containerId};K8S_POD_UID=${sb.podUid}`,
    },
  });
  if (r.exitCode !== 0) {
    const err = tryParseJson(r.stdout) as { msg?: string; details?: string } | undefined;
    throw new Error(`CNI ${command} ${conf.type} failed (exit ${r.exitCode}): ${err?.msg ?? r.stdout.trim()}${err?.details ? `: ${err.details}` : ''} ${r.stderr.trim()}`.trim());
  }
  return r.stdout.trim() ? tryParseJson(r.stdout) : undefined;
}
