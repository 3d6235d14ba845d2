import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { tryParseJson } from '../../../src/json.js';
import { usageError } from '../../errors.js';
import { LAB_NAME, labPaths, stateRoot } from './layout.js';
import { ProcessRecord } from './processes.js';

/** lab.json: everything `lab status`, `lab down` and `prune` need to know about a lab. Written before anything is created. */
export const LabState = z.object({
  name: z.string(),
  status: z.enum(['creating', 'ready', 'failed', 'deleting']),
  createdAt: z.string(),
  firedrillVersion: z.string(),
  podsPerNode: z.number().int(),
  nodes: z.array(
    z.object({
      name: z.string(),
      role: z.enum(['control-plane', 'worker']),
      netns: z.string(),
      ip: z.string(),
      mac: z.string(),
      uplink: z.string(),
    }),
  ),
  underlay: z.object({ netns: z.string(), bridge: z.string(), cidr: z.string() }),
  apiserver: z.object({ url: z.string(), hostUrl: z.string().optional(), hostPort: z.number().int().optional() }),
  kubeconfig: z.string(),
  versions: z.record(z.string(), z.string()),
  processes: z.array(ProcessRecord),
});
export type LabState = z.infer<typeof LabState>;

export async function writeState(state: LabState): Promise<void> {
  const file = labPaths(state.name).state;
  await mkdir(dirname(file), { recursive: true });
  await writeFile(`${file}.tmp`, `${JSON.stringify(state, null, 2)}\n`);
  await rename(`${file}.tmp`, file);
}

export async function readState(lab: string): Promise<LabState | undefined> {
  const raw = await readFile(labPaths(lab).state, 'utf8').catch(() => undefined);
  if (raw === undefined) return undefined;
  const parsed = LabState.safeParse(tryParseJson(raw));
  if (!parsed.success) throw new Error(`${labPaths(lab).state} is not a firedrill lab state: ${parsed.error.message}`);
  return parsed.data;
}

/** The lab's state, or a usage error that says how to find or create one. */
export async function requireState(lab: string): Promise<LabState> {
  const state = await readState(lab);
  if (!state) throw usageError(`no lab named "${lab}" on this machine`, 'create it with `firedrill lab up` (see `firedrill lab list`)');
  return state;
}

/** Names of labs that have a state dir (whatever their status). */
export async function listLabDirs(): Promise<string[]> {
  const entries = await readdir(stateRoot(), { withFileTypes: true }).catch(() => []);
  // Other backends keep their state beside the labs' under names a lab cannot have (they contain a dash).
  return entries.filter((e) => e.isDirectory() && LAB_NAME.test(e.name)).map((e) => e.name).sort();
}
