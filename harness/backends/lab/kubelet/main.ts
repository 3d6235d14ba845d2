#!/usr/bin/env node
// The lab kubelet of one node, started by `firedrill lab up` inside the node's network namespace.
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { apiPath, labApi } from '../api.js';
import { LabKubelet } from './kubelet.js';
import { defaultPrograms } from './sandboxes.js';

export const KubeletConfig = z.object({
  lab: z.string(),
  node: z.object({ name: z.string(), role: z.enum(['control-plane', 'worker']), ip: z.string(), kubernetesVersion: z.string(), runtimeVersion: z.string() }),
  kubeconfig: z.string(),
  podsDir: z.string(),
  podNetnsPrefix: z.string(),
  cni: z.object({ conflist: z.string(), binDir: z.string(), cacheDir: z.string() }),
  coredns: z.string(),
});
export type KubeletConfig = z.infer<typeof KubeletConfig>;

const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);

async function main(): Promise<void> {
  const file = process.argv[2];
  if (!file) throw new Error('usage: kubelet <config.json>');
  const config = KubeletConfig.parse(JSON.parse(await readFile(file, 'utf8')));
  const api = await labApi(config.kubeconfig);
  const kubelet = new LabKubelet(
    api,
    config.node,
    {
      lab: config.lab,
      cni: config.cni,
      podsDir: config.podsDir,
      programs: defaultPrograms(config.coredns),
      netnsFor: (uid) => `${config.podNetnsPrefix}${uid.replaceAll('-', '').slice(0, 12)}`,
      configMap: async (namespace, name) => (await api.get<{ data?: Record<string, string> }>(apiPath.configMap(namespace, name))).data ?? {},
    },
    log,
  );
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      kubelet.stop();
      log(`${signal}: stopping (pods keep running, as with kubelet)`);
      process.exit(0);
    });
  }
  await kubelet.start();
  log('lab kubelet running');
}

main().catch((e: unknown) => {
  log(`fatal: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  process.exit(1);
});
