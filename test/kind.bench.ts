import { expect, test } from 'vitest';
import { clusterOf } from '../harness/backends/kind/backend.js';
import { kindDown } from '../harness/backends/kind/kind-down.js';
import { kindUp } from '../harness/backends/kind/kind-up.js';
import { ensureKindImages } from '../harness/images/images.js';
import { runDrill } from '../harness/runner/drill.js';
import { defaultCacheRoot } from '../harness/setup/cache.js';
import { scenarios } from '../scenarios/index.js';
import { diagnose } from '../src/doctor.js';
import { connect } from '../src/kube/client.js';
import { kindUnavailable } from './support/kind.js';

// Targets (issue 8): image build warm < 10 s; kind cluster with flannel green < 90 s; six drills on a
// ready kind cluster < 3 min; MTTD per drill on kind < 1 s. (A cold image build, < 8 min, is measured
// by `firedrill image build --force`; it is not repeated here.)
const unavailable = await kindUnavailable();
const NAME = 'kbench';
const cacheRoot = defaultCacheRoot();

test.skipIf(unavailable)(`kind: images warm, cluster up, six drills, doctor (${unavailable ?? 'Docker, root and components present'})`, { timeout: 1_800_000 }, async ({ bench }) => {
  await ensureKindImages({ cacheRoot, say: () => undefined });
  const warmStarted = performance.now();
  await ensureKindImages({ cacheRoot, say: () => undefined });
  const warm = (performance.now() - warmStarted) / 1000;
  await kindDown(NAME, () => undefined, cacheRoot);
  const upStarted = performance.now();
  const state = await kindUp({ name: NAME, nodes: 3, podsPerNode: 2, cacheRoot, say: () => undefined, stepTimeoutMs: 300_000 });
  const up = (performance.now() - upStarted) / 1000;
  const rows: string[] = [];
  let drills = 0;
  try {
    const cluster = clusterOf(state);
    const kube = await connect(cluster.kubeconfig);
    const drillsStarted = performance.now();
    for (const scenario of scenarios) {
      const j = await runDrill({ scenario, cluster, kube, repairer: { kind: 'library' }, say: () => undefined });
      rows.push(`${scenario.id.padEnd(22)} ${j.verdict.padEnd(14)} MTTD ${String(j.detection?.mttdMs ?? '-').padStart(5)} ms  MTTR ${String(j.recovery?.mttrMs ?? '-').padStart(5)} ms`);
      expect.soft(j.verdict, scenario.id).toBe('recovered');
      expect.soft(j.detection?.mttdMs ?? Infinity, `${scenario.id} MTTD`).toBeLessThan(1000);
    }
    drills = (performance.now() - drillsStarted) / 1000;
    await bench('doctor on a healthy 3-node kind cluster (probes included)', async () => {
      const d = await diagnose(kube, cluster.access);
      if (d.findings.length) throw new Error(`findings on a healthy cluster: ${d.findings.map((f) => f.kind).join(', ')}`);
    }).run({ iterations: 5, time: 0 });
  } finally {
    await kindDown(NAME, () => undefined, cacheRoot);
  }
  console.log(`images warm: ${warm.toFixed(1)} s; kind cluster with flannel green: ${up.toFixed(1)} s; six drills on it: ${drills.toFixed(1)} s\n${rows.join('\n')}`);
  expect.soft(warm, 'warm image build seconds').toBeLessThan(10);
  expect.soft(up, 'kind up seconds').toBeLessThan(90);
  expect.soft(drills, 'six drills seconds').toBeLessThan(180);
});
