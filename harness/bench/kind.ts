import { clusterOf } from '../backends/kind/backend.js';
import { kindDown } from '../backends/kind/kind-down.js';
import { kindUp } from '../backends/kind/kind-up.js';
import { ensureKindImages } from '../images/images.js';
import { type Scenario } from '../../scenarios/scenario.js';
import { diagnose } from '../../src/doctor.js';
import { connect } from '../../src/kube/client.js';
import { drillRow } from './measure.js';
import { type DrillRow, type KindRun, median } from './results.js';

export interface KindBenchOptions {
  name: string;
  nodes: number;
  cacheRoot: string;
  say: (line: string) => void;
  scenarios: readonly Scenario[];
  repeats: number;
}

/**
 * The kind backend in the bench's own run: a warm image build, `kind up` to green, the drills with the
 * library, doctor on the healthy cluster; the cluster is always deleted. A failing step is recorded.
 */
export async function benchKind(o: KindBenchOptions): Promise<{ run: KindRun; drills: DrillRow[] }> {
  const run: KindRun = { nodes: o.nodes };
  const drills: DrillRow[] = [];
  const quiet = () => undefined;
  try {
    await ensureKindImages({ cacheRoot: o.cacheRoot, say: quiet });
    let t = performance.now();
    await ensureKindImages({ cacheRoot: o.cacheRoot, say: quiet });
    run.imagesWarmMs = Math.round(performance.now() - t);
    await kindDown(o.name, quiet, o.cacheRoot);
    t = performance.now();
    const state = await kindUp({ name: o.name, nodes: o.nodes, podsPerNode: 2, cacheRoot: o.cacheRoot, say: quiet, stepTimeoutMs: 300_000 });
    run.upMs = Math.round(performance.now() - t);
    o.say(`  kind N=${o.nodes}: images warm ${run.imagesWarmMs} ms, up ${run.upMs} ms`);
    const cluster = clusterOf(state);
    const kube = await connect(cluster.kubeconfig);
    t = performance.now();
    for (const scenario of o.scenarios) drills.push(await drillRow(scenario, o.nodes, o.repeats, kube, cluster, o.say));
    run.drillsPassMs = Math.round((performance.now() - t) / o.repeats);
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      t = performance.now();
      await diagnose(kube, cluster.access, { probeMode: 'sampled' }); // as `firedrill doctor`
      times.push(performance.now() - t);
    }
    run.doctorHealthyMs = Math.round(median(times));
  } catch (e) {
    run.error = (e as Error).message.split('\n')[0]!;
    o.say(`  kind: ${run.error}`);
  } finally {
    await kindDown(o.name, quiet, o.cacheRoot).catch((e: Error) => o.say(`  kind down: ${e.message}`));
  }
  return { run, drills };
}
