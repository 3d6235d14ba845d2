import { expect, test } from 'vitest';
import { benchConfig } from '../harness/bench/config.js';
import { benchKind } from '../harness/bench/kind.js';
import { benchLab, load, machine } from '../harness/bench/measure.js';
import { benchReference } from '../harness/bench/reference.js';
import { resultsMarkdown, writeBenchOutputs } from '../harness/bench/report.js';
import { type BenchResults, GOLDPINGER_DEFAULTS } from '../harness/bench/results.js';
import { packageInfo } from '../harness/package-info.js';
import { defaultCacheRoot } from '../harness/setup/cache.js';
import { ipForwardOff } from '../scenarios/ip-forward-off.js';
import { scenarios } from '../scenarios/index.js';
import { kindUnavailable } from './support/kind.js';
import { labUnavailable } from './support/lab.js';

/** kind's own default shape: one control plane, two workers. */
const KIND_NODES = 3;

// Issue 12: how lab up and down, the probe matrix, doctor and memory grow with nodes, beside the bash
// reference's data plane; MTTD and MTTR per drill beside goldpinger's; the same drills on a 3-node kind
// cluster when Docker can run one (issue 8's aims), so the backends compare within one run. Writes bench/results.json,
// bench/results.md and bench/scaling.svg. Sizes: FIREDRILL_BENCH_NODES (default 3,10,30,50), drills at
// FIREDRILL_BENCH_DRILL_NODES (default 3,30), FIREDRILL_BENCH_REPEATS times each (default 3).
// A size that fails is recorded in the results, and the next size still runs.
const unavailable = await labUnavailable();
const config = benchConfig(process.env, packageInfo().root);

test.skipIf(unavailable)(`scale: lab, probes, doctor, memory, drills at N = ${config.nodes.join(', ')} (${unavailable ?? 'root and components present'})`, { timeout: 4 * 3_600_000 }, async () => {
  const started = performance.now();
  const loadBefore = load();
  const say = (line: string) => console.log(line);
  const results: BenchResults = { startedAt: new Date().toISOString(), durationS: 0, machine: machine(loadBefore), nodes: config.nodes, repeats: config.repeats, scale: [], drills: [], drillErrors: [], kind: { nodes: KIND_NODES }, goldpinger: GOLDPINGER_DEFAULTS };
  for (const nodes of config.nodes) {
    say(`N=${nodes}:`);
    const reference = await benchReference(config.referenceScript, nodes);
    const withDrills = config.drillNodes.includes(nodes);
    const { row, drills } = await benchLab({
      name: `sbench${nodes}`,
      nodes,
      cacheRoot: defaultCacheRoot(),
      say,
      fault: ipForwardOff,
      ...(withDrills ? { drills: { scenarios, repeats: config.repeats } } : {}),
    });
    results.scale.push({ ...row, reference });
    results.drills.push(...drills);
    if (withDrills && !drills.length) results.drillErrors.push({ nodes, error: row.error ?? 'no drill ran' });
  }
  const kindReason = config.kind ? await kindUnavailable() : 'FIREDRILL_BENCH_KIND=0';
  if (kindReason) {
    results.kind.skipped = kindReason;
    say(`kind: not measured (${kindReason})`);
  } else {
    say(`kind N=${KIND_NODES}:`);
    const kind = await benchKind({ name: 'kbench', nodes: KIND_NODES, cacheRoot: defaultCacheRoot(), say, scenarios, repeats: config.repeats });
    results.kind = kind.run;
    results.drills.push(...kind.drills);
  }
  results.durationS = (performance.now() - started) / 1000;
  results.machine = machine(loadBefore);
  const files = await writeBenchOutputs(config.outDir, results);
  console.log(`${resultsMarkdown(results)}\nwritten: ${files.join(', ')}`);
  // The smallest lab must work end to end; larger ones may fail on a small machine (recorded above).
  expect(results.scale[0]!.error, `N=${config.nodes[0]}`).toBeUndefined();
});
