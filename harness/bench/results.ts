/** What `npm run bench` measures and writes to bench/results.json. */

export interface Machine {
  cpus: number;
  memoryGiB: number;
  kernel: string;
  node: string;
  /** `uptime`'s load averages (1, 5, 15 min) when the bench started and when it ended: other work shares the machine. */
  loadBefore: number[];
  loadAfter: number[];
}

/** One lab size: every figure in ms (memory in MiB); absent when that step did not run. */
export interface ScaleRow {
  nodes: number;
  /** Why this size is incomplete (a lab that did not come up, a step that threw). */
  error?: string;
  labUpMs?: number;
  /** lab up's own step timings, as it reports them. */
  labUpSteps?: Record<string, number>;
  labDownMs?: number;
  probeFull?: ProbeFigure;
  probeSampled?: ProbeFigure;
  doctorHealthyMs?: number;
  /** doctor on the lab with one fault injected (the fault's scenario in `fault`). */
  doctorFaultMs?: number;
  fault?: string;
  /** Whether that doctor found the fault's expected finding. */
  faultFound?: boolean;
  /** The checks alone, on one observation of the healthy lab, and each check's share. */
  checksMs?: number;
  checkMs?: Record<string, number>;
  memory?: Memory;
  /** One pass of every drill, one after the other (total over all repeats / repeats), lab up not included. */
  drillsPassMs?: number;
  reference?: ReferenceRun;
}

export interface ProbeFigure {
  /** Median of the runs. */
  ms: number;
  runs: number[];
  pings: number;
  dns: number;
  failed: number;
}

export interface Memory {
  totalMiB: number;
  perNodeMiB: number;
  processes: number;
  byComponentMiB: Record<string, number>;
}

/** The bash reference building the same data plane (same kernel work): its time, or why it did not run. */
export interface ReferenceRun {
  upMs?: number;
  downMs?: number;
  skipped?: string;
}

export interface Percentiles {
  p50: number;
  p95: number;
  n: number;
}

export interface DrillRow {
  /** The backend the drills ran on (lab, kind). */
  backend: string;
  nodes: number;
  scenario: string;
  verdicts: string[];
  mttd?: Percentiles;
  mttr?: Percentiles;
  /** What a goldpinger mesh at its defaults would take to see the fault (undefined: it would not see it). */
  goldpinger?: Percentiles;
  goldpingerNote?: string;
}

/** The kind backend in the same run (issue 8's aims), so that ratios between the backends come from one machine state. */
export interface KindRun {
  nodes: number;
  /** Why it did not run (no Docker engine, FIREDRILL_BENCH_KIND=0). */
  skipped?: string;
  /** Why it is incomplete. */
  error?: string;
  /** `firedrill image build` with every image already built (the labelled images reused). */
  imagesWarmMs?: number;
  /** `kind up` to a green probe matrix and DNS. */
  upMs?: number;
  /** One pass of every drill on the ready cluster (total over all repeats / repeats). */
  drillsPassMs?: number;
  /** doctor on the healthy cluster (median of 3). */
  doctorHealthyMs?: number;
}

export interface BenchResults {
  startedAt: string;
  durationS: number;
  machine: Machine;
  nodes: number[];
  repeats: number;
  scale: ScaleRow[];
  drills: DrillRow[];
  /** Drill sizes that could not run at all. */
  drillErrors: { nodes: number; error: string }[];
  kind: KindRun;
  goldpinger: GoldpingerModel;
}

/** Nearest-rank percentile of a non-empty list. */
export function percentile(values: readonly number[], p: number): number {
  if (!values.length) throw new Error('percentile of an empty list');
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export function percentiles(values: readonly number[]): Percentiles | undefined {
  return values.length ? { p50: percentile(values, 50), p95: percentile(values, 95), n: values.length } : undefined;
}

export const median = (values: readonly number[]) => percentile(values, 50);

/**
 * goldpinger's detection time, computed from its documented defaults (pkg/goldpinger/config.go,
 * pinger.go): every instance (a DaemonSet: one per node) pings every other instance in its own
 * loop, every `refresh-interval` (30 s) stretched by up to `jitter-factor` (0.05), each loop with its
 * own start, and a ping fails after `ping-timeout-ms` (300 ms). A fault at a random moment is first
 * seen by whichever of the k broken loops fires next: the minimum of k uniform waits over one
 * period, plus the timeout. That is the earliest failed ping anywhere in the mesh: the Prometheus
 * scrape and the alert rule a person would wait for come on top, and are not counted.
 */
export interface GoldpingerModel {
  method: 'computed';
  refreshIntervalS: number;
  jitterFactor: number;
  pingTimeoutMs: number;
}

export const GOLDPINGER_DEFAULTS: GoldpingerModel = { method: 'computed', refreshIntervalS: 30, jitterFactor: 0.05, pingTimeoutMs: 300 };

/** p50 and p95 of goldpinger's time to a first failed ping when `brokenLoops` ping loops fail. */
export function goldpingerDetection(brokenLoops: number, model: GoldpingerModel = GOLDPINGER_DEFAULTS): Percentiles {
  if (brokenLoops < 1) throw new Error('goldpinger sees a fault only through at least one broken ping loop');
  // Mean period: 30 s stretched by a uniform jitter of up to 5 %.
  const periodMs = model.refreshIntervalS * 1000 * (1 + model.jitterFactor / 2);
  // The minimum of k independent U(0, T) waits is below t with probability 1 - (1 - t/T)^k.
  const quantile = (q: number) => periodMs * (1 - (1 - q) ** (1 / brokenLoops)) + model.pingTimeoutMs;
  return { p50: Math.round(quantile(0.5)), p95: Math.round(quantile(0.95)), n: 0 };
}

/**
 * The goldpinger loops a fault that cuts one node's pod network off breaks: the target's instance
 * pinging the N-1 others and the N-1 others pinging it (a ping is a round trip, so both ways fail).
 */
export const brokenLoopsForNodeCutOff = (nodes: number) => 2 * (nodes - 1);
