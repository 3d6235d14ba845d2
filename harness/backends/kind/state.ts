import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { stateRoot } from '../lab/layout.js';

/** A kind drill cluster: its kind name, its docker network and subnet, its nodes (= their containers). */
export const KindState = z.object({
  name: z.string(),
  clusterName: z.string(),
  network: z.string(),
  subnet: z.string(),
  status: z.enum(['creating', 'ready', 'failed']),
  createdAt: z.string(),
  kubeconfig: z.string(),
  nodes: z.array(z.object({ name: z.string(), role: z.enum(['control-plane', 'worker']), ip: z.string() })),
});
export type KindState = z.infer<typeof KindState>;

/** Beside the labs' state, under a name no lab can have. */
const kindRoot = () => join(stateRoot(), 'kind-clusters');
export const kindDir = (name: string) => join(kindRoot(), name);

export async function readKindState(name: string): Promise<KindState | undefined> {
  const text = await readFile(join(kindDir(name), 'state.json'), 'utf8').catch(() => undefined);
  return text === undefined ? undefined : KindState.parse(JSON.parse(text));
}

export async function writeKindState(state: KindState): Promise<void> {
  await mkdir(kindDir(state.name), { recursive: true });
  await writeFile(join(kindDir(state.name), 'state.json'), `${JSON.stringify(state, null, 2)}\n`);
}

export async function removeKindState(name: string): Promise<void> {
  await rm(kindDir(name), { recursive: true, force: true });
}

export async function removeAllKindState(): Promise<void> {
  await rm(kindRoot(), { recursive: true, force: true });
}

export async function listKindStates(): Promise<KindState[]> {
  const names = await readdir(kindRoot()).catch(() => [] as string[]);
  return (await Promise.all(names.map((n) => readKindState(n).catch(() => undefined)))).filter((s): s is KindState => s !== undefined);
}
