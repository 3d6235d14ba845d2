import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { BATCH_DIR_PREFIX, BATCH_RESULTS_ROOT } from '../../../src/batch.js';
import { isAlive } from '../../pid.js';
import { labsWithCpuGroup, removeCpuGroup } from './cpu-group.js';
import { labDir, podNetnsPrefix } from './layout.js';
import { deleteNetns, listNetns } from './network.js';
import { labelledProcesses, stopPids } from './processes.js';
import { listLabDirs, readState, writeState } from './state.js';

export interface DownReport {
  lab: string;
  processes: number;
  namespaces: number;
}

/**
 * Removes a lab and everything it created: every process labelled with its name (control
 * plane, flanneld, kube-proxy, kubelets, pods' programs, relays), every namespace (pods,
 * nodes, underlay), its CPU group and its state dir. Idempotent: a missing lab is not an error.
 */
export async function labDown(lab: string, say: (line: string) => void): Promise<DownReport> {
  const state = await readState(lab).catch(() => undefined);
  if (state) {
    state.status = 'deleting';
    await writeState(state).catch(() => undefined);
  }
  const procs = await labelledProcesses(lab);
  // A lab is thrown away: a short grace for clean logs, then SIGKILL.
  await stopPids(procs.map((p) => p.pid), 300);
  const all = await listNetns();
  const known = new Set([...(state?.nodes.map((n) => n.netns) ?? []), ...(state ? [state.underlay.netns] : [])]);
  const namespaces = all.filter((n) => known.has(n) || n.startsWith(podNetnsPrefix(lab)));
  await deleteNetns(namespaces);
  const group = await removeCpuGroup(lab);
  await rm(labDir(lab), { recursive: true, force: true });
  const report = { lab, processes: procs.length, namespaces: namespaces.length };
  if (!state && !procs.length && !namespaces.length && !group) say(`no lab named ${lab}: nothing to remove`);
  else say(`removed lab ${lab}: ${report.processes} processes stopped, ${report.namespaces} namespaces deleted, state removed`);
  return report;
}

/** Removes every lab on this machine, including what crashed runs left (labelled processes with no state dir). */
export async function prune(say: (line: string) => void): Promise<DownReport[]> {
  const labs = new Set(await listLabDirs());
  for (const p of await labelledProcesses()) labs.add(p.lab);
  for (const lab of await labsWithCpuGroup()) labs.add(lab);
  const reports: DownReport[] = [];
  for (const lab of [...labs].sort()) reports.push(await labDown(lab, say));
  const batches = await pruneBatchResults(say);
  if (!reports.length && !batches) say('nothing to prune');
  return reports;
}

/** Result directories of node reads whose process was killed mid-read (see batchSharingFiles); returns how many. */
async function pruneBatchResults(say: (line: string) => void): Promise<number> {
  let removed = 0;
  for (const name of await readdir(BATCH_RESULTS_ROOT).catch(() => [])) {
    const pid = new RegExp(`^${BATCH_DIR_PREFIX}(\\d+)-`).exec(name)?.[1];
    if (!pid || isAlive(Number(pid))) continue;
    say(`removing ${join(BATCH_RESULTS_ROOT, name)}, left by a killed process`);
    await rm(join(BATCH_RESULTS_ROOT, name), { recursive: true, force: true });
    removed++;
  }
  return removed;
}
