import fc from 'fast-check';
import { type Cluster } from '../backends/backend.js';
import { diagnose, repairCluster } from '../../src/doctor.js';
import { type Kube } from '../../src/kube/client.js';
import { applySteps } from '../../src/repairs/apply.js';
import { type DrawResult, outsideIn, runDraw } from './draw.js';
import { type Mutation, operators } from './operators.js';

/** The random draws of a seed: 1..faults mutations each, on the lab's nodes, with fast-check's seeded generator. */
export function drawsFor(seed: number, count: number, faults: number, nodes: string[], ops = operators.map((o) => o.id)): Mutation[][] {
  const mutation = fc.record({ op: fc.constantFrom(...ops), node: fc.constantFrom(...nodes), pick: fc.nat(9_999) });
  return fc.sample(fc.array(mutation, { minLength: 1, maxLength: Math.max(1, faults) }), { seed, numRuns: count });
}

/** A symptomatic draw the library did not repair, or claimed to have repaired while the matrix was red. */
export const failed = (r: DrawResult) => r.falseClaim || r.verdict === 'not-repaired';

export interface FuzzLab {
  cluster: Cluster;
  kube: Kube;
}

export interface FuzzOptions {
  draws: Mutation[][];
  /** Shrink failing draws to the smallest set of mutations that still fails (default true). */
  shrink?: boolean;
  /** Makes the lab again when it does not return to steady state; returns the new one. */
  rebuild: () => Promise<FuzzLab>;
  say: (line: string) => void;
  signal?: AbortSignal;
}

interface Failure {
  result: DrawResult;
  /** The smallest sub-draw that still fails (the draw itself when it has one mutation or nothing smaller fails). */
  minimal: Mutation[];
}

export interface FuzzReport {
  results: DrawResult[];
  failures: Failure[];
  rebuilds: number;
  durationMs: number;
}

/**
 * Every draw in turn on one lab: run it, undo what is left, and get the lab back to steady state
 * (the library's own repair, else a new lab) before the next. Failing draws are shrunk.
 */
export async function fuzz(start: FuzzLab, options: FuzzOptions): Promise<FuzzReport> {
  const started = performance.now();
  let lab = start;
  let rebuilds = 0;
  const steadyOrRebuilt = async () => {
    if (await backToSteady(lab)) return;
    options.say('  the lab did not return to steady state: making it again');
    lab = await options.rebuild();
    rebuilds++;
  };
  const once = async (draw: Mutation[]) => {
    const { result, injections } = await runDraw(lab.cluster, lab.kube, draw).catch((e: unknown) => ({
      result: { ...errorResult(draw), error: (e as Error).message.split('\n')[0] },
      injections: [],
    }));
    const restoring = performance.now();
    await applySteps(
      injections.toReversed().flatMap((i) => i.undo),
      lab.kube,
      lab.cluster.access,
    );
    await steadyOrRebuilt();
    result.phases.restore = Math.round(performance.now() - restoring);
    result.durationMs += result.phases.restore;
    return result;
  };
  const results: DrawResult[] = [];
  const failures: Failure[] = [];
  await steadyOrRebuilt();
  for (const [i, draw] of options.draws.entries()) {
    options.signal?.throwIfAborted();
    const result = await once(draw);
    results.push(result);
    options.say(`draw ${i + 1}/${options.draws.length}: ${result.verdict}${result.falseClaim ? ' FALSE-REPAIRED-CLAIM' : result.redAfterClaim ? ` (red once after the claim: ${result.redAfterClaim})` : ''} (${result.durationMs} ms: ${Object.entries(result.phases).map(([k, v]) => `${k} ${v}`).join(', ')}) ${result.descriptions.join('; ') || draw.map((m) => m.op).join(', ')}`);
    if (!failed(result)) continue;
    const minimal = options.shrink === false ? draw : await shrink(draw, async (sub) => failed(await once(sub)), options.signal);
    failures.push({ result, minimal });
  }
  return { results, failures, rebuilds, durationMs: Math.round(performance.now() - started) };
}

/**
 * Delta debugging over a draw's mutations: the smallest subset (fewest mutations first) that
 * still fails. Draws hold a few mutations, so trying subsets by size is cheap enough.
 */
export async function shrink(draw: Mutation[], fails: (sub: Mutation[]) => Promise<boolean>, signal?: AbortSignal): Promise<Mutation[]> {
  for (let size = 1; size < draw.length; size++) {
    for (const sub of subsets(draw, size)) {
      signal?.throwIfAborted();
      if (await fails(sub)) return sub;
    }
  }
  return draw;
}

function subsets<T>(items: T[], size: number): T[][] {
  if (size === 0) return [[]];
  return items.flatMap((item, i) => subsets(items.slice(i + 1), size - 1).map((rest) => [item, ...rest]));
}

const errorResult = (draw: Mutation[]): DrawResult => ({ draw, descriptions: [], verdict: 'error', detected: false, claimedRepaired: false, falseClaim: false, findings: [], remaining: [], durationMs: 0, phases: {} });

/** Green matrix and DNS and no critical finding, within a while; else one repair by the library, and look again. */
async function backToSteady(lab: FuzzLab): Promise<boolean> {
  for (const attempt of [0, 1]) {
    if (attempt) await repairCluster(lab.kube, lab.cluster.access).catch(() => undefined);
    const deadline = Date.now() + 20_000;
    do {
      if (!(await outsideIn(lab.kube, lab.cluster.access)).failing.length) {
        const critical = (await diagnose(lab.kube, lab.cluster.access, { probe: false })).findings.filter((f) => f.severity === 'critical');
        if (!critical.length) return true;
      }
      await new Promise((r) => setTimeout(r, 300));
    } while (Date.now() < deadline);
  }
  return false;
}

export interface OperatorRow {
  op: string;
  draws: number;
  symptomatic: number;
  detected: number;
  repaired: number;
  falseClaims: number;
  meanMs: number;
}

/** Per operator, over the draws that contain it: how often it broke something, was found, was repaired. */
export function perOperator(results: DrawResult[]): OperatorRow[] {
  const rows = new Map<string, OperatorRow & { totalMs: number }>();
  for (const r of results) {
    for (const op of new Set(r.draw.map((m) => m.op))) {
      const row = rows.get(op) ?? { op, draws: 0, symptomatic: 0, detected: 0, repaired: 0, falseClaims: 0, meanMs: 0, totalMs: 0 };
      row.draws++;
      row.totalMs += r.durationMs;
      if (r.verdict === 'repaired' || r.verdict === 'not-repaired') {
        row.symptomatic++;
        if (r.detected) row.detected++;
        if (r.verdict === 'repaired') row.repaired++;
      }
      if (r.falseClaim) row.falseClaims++;
      rows.set(op, row);
    }
  }
  return [...rows.values()].map(({ totalMs, ...row }) => ({ ...row, meanMs: Math.round(totalMs / row.draws) })).sort((a, b) => a.op.localeCompare(b.op));
}
