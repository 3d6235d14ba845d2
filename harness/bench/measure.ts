import { readFile } from 'node:fs/promises';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { type Cluster } from '../backends/backend.js';
import { clusterOf } from '../backends/lab/backend.js';
import { labDown } from '../backends/lab/lab-down.js';
import { labUp } from '../backends/lab/lab-up.js';
import { labelledProcesses } from '../backends/lab/processes.js';
import { runDrill } from '../runner/drill.js';
import { type Scenario, type ScenarioContext } from '../../scenarios/scenario.js';
import { checks } from '../../src/checks/index.js';
import { type ClusterObservation } from '../../src/observe/cluster.js';
import { diagnose } from '../../src/doctor.js';
import { connect, type Kube } from '../../src/kube/client.js';
import { type ClusterAccess } from '../../src/access.js';
import { probeCluster, type ProbeMode } from '../../src/probes/probe.js';
import { greenPoll } from '../green.js';
import { waitFor } from '../wait.js';
import { applySteps } from '../../src/repairs/apply.js';
import { brokenLoopsForNodeCutOff, type DrillRow, goldpingerDetection, type Machine, median, type Memory, percentiles, type ProbeFigure, type ScaleRow } from './results.js';

export function machine(loadBefore: number[]): Machine {
  return {
    cpus: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
    loadBefore,
    loadAfter: loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

export const load = () => loadavg().map((l) => Math.round(l * 100) / 100);

export interface LabBenchOptions {
  name: string;
  nodes: number;
  cacheRoot: string;
  say: (line: string) => void;
  /** The fault doctor is timed on. */
  fault: Scenario;
  /** Drills to run on this lab before it goes down, each `repeats` times. */
  drills?: { scenarios: Scenario[]; repeats: number };
  /** Runs of each probe and doctor measurement (the median is kept). */
  runs?: number;
}

/**
 * One lab size: up, probe matrix (full and sampled), doctor healthy and with one fault, memory,
 * the drills if asked, down. A lab that does not come up ends the size; any other step that fails
 * is recorded and the next step still runs. The lab is always taken down.
 */
export async function benchLab(o: LabBenchOptions): Promise<{ row: ScaleRow; drills: DrillRow[] }> {
  const row: ScaleRow = { nodes: o.nodes };
  const drills: DrillRow[] = [];
  const errors: string[] = [];
  const runs = o.runs ?? 3;
  const step = async <T>(name: string, body: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await body();
    } catch (e) {
      errors.push(`${name}: ${(e as Error).message.split('\n')[0]!.slice(0, 200)}`);
      o.say(`  N=${o.nodes}: ${errors.at(-1)}`);
      return undefined;
    }
  };
  await labDown(o.name, () => undefined);
  try {
    const up = await step('lab up', async () => {
      const started = performance.now();
      const r = await labUp({ name: o.name, nodes: o.nodes, podsPerNode: 2, dnsReplicas: 2, cacheRoot: o.cacheRoot, say: () => undefined, stepTimeoutMs: 300_000 });
      row.labUpMs = Math.round(performance.now() - started);
      row.labUpSteps = r.timings;
      return r;
    });
    if (!up) return { row, drills };
    o.say(`  N=${o.nodes}: lab up ${row.labUpMs} ms`);
    const cluster = clusterOf(up.state);
    const kube = await connect(cluster.kubeconfig);
    row.memory = await labMemory(o.name, o.nodes);
    row.probeFull = await step('probe matrix, full', () => timeProbe(kube, cluster.access, 'full', runs));
    row.probeSampled = await step('probe matrix, sampled', () => timeProbe(kube, cluster.access, 'sampled', runs));
    await step('doctor, healthy', async () => {
      const times: number[] = [];
      for (let i = 0; i < runs; i++) {
        const t = performance.now();
        const d = await diagnose(kube, cluster.access, { probeMode: 'sampled' }); // as `firedrill doctor`
        times.push(performance.now() - t);
        if (i === 0) Object.assign(row, timeChecks(d.observation));
      }
      row.doctorHealthyMs = Math.round(median(times));
    });
    o.say(`  N=${o.nodes}: probe full ${row.probeFull?.ms ?? '-'} ms, sampled ${row.probeSampled?.ms ?? '-'} ms, doctor ${row.doctorHealthyMs ?? '-'} ms, checks ${row.checksMs ?? '-'} ms, ${row.memory.totalMiB} MiB`);
    Object.assign(row, await step(`doctor, ${o.fault.id}`, () => timeDoctorOnFault(kube, cluster, o.fault)));
    if (o.drills) {
      const t = performance.now();
      for (const scenario of o.drills.scenarios) drills.push(await drillRow(scenario, o.nodes, o.drills.repeats, kube, cluster, o.say));
      row.drillsPassMs = Math.round((performance.now() - t) / o.drills.repeats);
    }
  } finally {
    const t = performance.now();
    await step('lab down', () => labDown(o.name, () => undefined));
    row.labDownMs = Math.round(performance.now() - t);
    if (errors.length) row.error = errors.join('; ');
  }
  return { row, drills };
}

/** The checks alone on one observation, in total and each (a check that grows faster than the nodes shows here). */
function timeChecks(observation: ClusterObservation): Pick<ScaleRow, 'checksMs' | 'checkMs'> {
  const checkMs: Record<string, number> = {};
  for (const check of checks) {
    const t = performance.now();
    check(observation);
    checkMs[check.name] = Math.round((performance.now() - t) * 10) / 10;
  }
  return { checksMs: Math.round(Object.values(checkMs).reduce((a, b) => a + b, 0) * 10) / 10, checkMs };
}

async function timeProbe(kube: Kube, access: ClusterAccess, mode: ProbeMode, runs: number): Promise<ProbeFigure> {
  const times: number[] = [];
  let last;
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    last = await probeCluster(kube, access, { mode });
    times.push(Math.round(performance.now() - t));
  }
  return { ms: median(times), runs: times, pings: last!.ping.length, dns: last!.dns.length, failed: last!.ping.filter((p) => !p.ok).length + last!.dns.filter((d) => !d.ok).length };
}

/** doctor (probes included) once on the lab with the fault in, then the fault restored and the lab green again. */
async function timeDoctorOnFault(kube: Kube, cluster: ReturnType<typeof clusterOf>, fault: Scenario): Promise<Partial<ScaleRow>> {
  const nodes = cluster.nodes.map((n) => ({ name: n.name, role: n.role, ip: n.ip }));
  const ctx: ScenarioContext = { kube, access: cluster.access, nodes, target: fault.defaultTarget(nodes), memo: {} };
  const injected = await applySteps(await fault.inject(ctx), kube, cluster.access);
  try {
    const failed = injected.find((r) => !r.ok);
    if (failed) throw new Error(`injecting ${fault.id} failed: ${failed.error}`);
    const t = performance.now();
    const d = await diagnose(kube, cluster.access, { probeMode: 'sampled' }); // as `firedrill doctor`
    return { doctorFaultMs: Math.round(performance.now() - t), fault: fault.id, faultFound: d.findings.some((f) => fault.detects.includes(f.kind)) };
  } finally {
    await applySteps(await fault.restore(ctx), kube, cluster.access);
    await waitFor(`the lab green again after restoring ${fault.id}`, greenPoll(kube, cluster.access), { timeoutMs: 60_000, intervalMs: 200 });
  }
}

/** One scenario drilled `repeats` times with the library on a ready cluster of either backend. */
export async function drillRow(scenario: Scenario, nodes: number, repeats: number, kube: Kube, cluster: Cluster, say: (line: string) => void): Promise<DrillRow> {
  const journals: { verdict: string; detection?: { mttdMs?: number }; recovery?: { mttrMs?: number } }[] = [];
  for (let i = 0; i < repeats; i++) {
    // A drill that throws (its restore could not observe a node in time, on a loaded machine) is one
    // failed repeat: the next repeat and the other drills still run.
    journals.push(await runDrill({ scenario, cluster, kube, repairer: { kind: 'library' }, repeat: i + 1, say: () => undefined }).catch((e: Error) => ({ verdict: `error (${e.message.split('\n')[0]!.slice(0, 120)})` })));
  }
  const mttd = percentiles(journals.flatMap((j) => (j.detection?.mttdMs !== undefined ? [j.detection.mttdMs] : [])));
  const mttr = percentiles(journals.flatMap((j) => (j.recovery?.mttrMs !== undefined ? [j.recovery.mttrMs] : [])));
  say(`  ${cluster.backend} N=${nodes} ${scenario.id}: MTTD p50 ${mttd?.p50 ?? '-'} ms, MTTR p50 ${mttr?.p50 ?? '-'} ms (${journals.map((j) => j.verdict).join(', ')})`);
  return {
    backend: cluster.backend,
    nodes,
    scenario: scenario.id,
    verdicts: journals.map((j) => j.verdict),
    ...(mttd ? { mttd } : {}),
    ...(mttr ? { mttr } : {}),
    // Every drill cuts one node's pods off from the rest (the DNS drill through a network cutover).
    goldpinger: goldpingerDetection(brokenLoopsForNodeCutOff(nodes)),
    ...(scenario.id === 'dns-unreachable-node' ? { goldpingerNote: 'the cutover only: DNS is checked only with --host-to-resolve, unset by default' } : {}),
  };
}

/** RSS of every process labelled with the lab, summed by component (flanneld, kube-proxy, lab-kubelet…). */
export async function labMemory(lab: string, nodes: number): Promise<Memory> {
  const procs = await labelledProcesses(lab);
  const rss = await Promise.all(procs.map(async (p) => ({ component: p.component.split('/')[0]!, kib: await rssKiB(p.pid) })));
  const byComponent: Record<string, number> = {};
  for (const p of rss) byComponent[p.component] = (byComponent[p.component] ?? 0) + p.kib;
  const total = rss.reduce((s, p) => s + p.kib, 0) / 1024;
  return {
    totalMiB: Math.round(total),
    perNodeMiB: Math.round(total / nodes),
    processes: procs.length,
    byComponentMiB: Object.fromEntries(Object.entries(byComponent).sort((a, b) => b[1] - a[1]).map(([c, k]) => [c, Math.round(k / 1024)])),
  };
}

async function rssKiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
}
