import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type PanelOptions, type Series, svgDocument } from './plot.js';
import { type BenchResults, type Percentiles, type ScaleRow } from './results.js';

/** The aims of issues 12 (the lab at scale) and 8 (kind), each judged from the results (undefined: not measured in this run). */
export function aims(r: BenchResults): { aim: string; met: boolean | undefined; measured: string }[] {
  const at = (n: number) => r.scale.find((s) => s.nodes === n);
  const lab = r.drills.filter((d) => d.backend === 'lab');
  const drills3 = lab.filter((d) => d.nodes === 3);
  const drills30 = lab.filter((d) => d.nodes === 30);
  const kindDrills = r.drills.filter((d) => d.backend === 'kind');
  const maxP50 = (rows: typeof drills3) => (rows.length && rows.every((d) => d.mttd) ? Math.max(...rows.map((d) => d.mttd!.p50)) : undefined);
  const below = (value: number | undefined, limit: number, unit = 'ms', show = (v: number) => `${v} ${unit}`) => ({ met: value === undefined ? undefined : value < limit, measured: value === undefined ? 'not measured' : show(value) });
  const seconds = (v: number) => `${(v / 1000).toFixed(1)} s`;
  return [
    { aim: '3-node lab up to green < 5 s', ...below(at(3)?.labUpMs, 5000, 's', seconds) },
    { aim: `the ${drills3.length} drills end to end < 30 s at N = 3 (one pass, lab up not included)`, ...below(at(3)?.drillsPassMs, 30_000, 's', seconds) },
    { aim: '30-node lab up to green < 30 s', ...below(at(30)?.labUpMs, 30_000, 's', seconds) },
    { aim: '50-node lab up to green < 60 s', ...below(at(50)?.labUpMs, 60_000, 's', seconds) },
    { aim: 'lab memory for 50 nodes < 12 GB', ...below(at(50)?.memory?.totalMiB, 12e9 / 2 ** 20, 'MiB') },
    { aim: 'full probe matrix at 50 nodes < 3 s', ...below(at(50)?.probeFull?.ms, 3000) },
    { aim: 'doctor on 50 nodes < 2 s', ...below(at(50)?.doctorHealthyMs, 2000) },
    { aim: 'MTTD < 0.3 s per drill at N = 3 (worst p50)', ...below(maxP50(drills3), 300) },
    { aim: 'MTTD < 1 s per drill at N = 30 (worst p50)', ...below(maxP50(drills30), 1000) },
    { aim: 'kind: image build warm < 10 s', ...below(r.kind.imagesWarmMs, 10_000) },
    { aim: 'kind: cluster with flannel green < 90 s', ...below(r.kind.upMs, 90_000, 's', seconds) },
    { aim: `kind: the ${kindDrills.length} drills on a ready cluster < 3 min (one pass)`, ...below(r.kind.drillsPassMs, 180_000, 's', seconds) },
    { aim: 'kind: MTTD < 1 s per drill (worst p50)', ...below(maxP50(kindDrills), 1000) },
  ];
}

const ms = (v: number | undefined) => (v === undefined ? '–' : v < 1000 ? `${Math.round(v)} ms` : `${(v / 1000).toFixed(v < 10_000 ? 2 : 1)} s`);
const pct = (p: Percentiles | undefined) => (p ? `${ms(p.p50)} / ${ms(p.p95)}` : '–');
const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The results as Markdown: the machine, one row per lab size, one row per drill, the aims. */
export function resultsMarkdown(r: BenchResults): string {
  const m = r.machine;
  const lines: string[] = [];
  lines.push(`# firedrill bench`, '');
  lines.push(
    `${r.startedAt}, ${r.durationS.toFixed(0)} s; machine: ${m.cpus} CPUs, ${m.memoryGiB} GiB, Linux ${m.kernel}, Node ${m.node}; load average ${m.loadBefore.join(' ')} at the start, ${m.loadAfter.join(' ')} at the end (other work shares this machine).`,
    '',
  );
  lines.push('## Lab size', '');
  lines.push('| nodes | lab up | lab down | probe matrix, full (pings) | probe matrix, sampled (pings) | doctor, healthy | doctor, one fault | checks | memory (per node) | drills, one pass | lab up, nodes + underlay step | bash reference up (lab up ÷ reference) | note |');
  lines.push('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|');
  for (const s of r.scale) lines.push(scaleRow(s));
  lines.push('');
  if (r.drills.length || r.drillErrors.length) {
    lines.push(`## Drills (library repairs; p50 / p95 over ${r.repeats} repeat${r.repeats === 1 ? '' : 's'})`, '');
    lines.push('| backend | nodes | scenario | MTTD | MTTR | goldpinger at defaults, first failed ping | verdicts |');
    lines.push('|---|---:|---|---:|---:|---:|---|');
    for (const d of r.drills) {
      const gp = d.goldpinger ? pct(d.goldpinger) : 'not seen';
      lines.push(`| ${d.backend} | ${d.nodes} | ${d.scenario} | ${pct(d.mttd)} | ${pct(d.mttr)} | ${gp}${d.goldpingerNote ? ` (${cell(d.goldpingerNote)})` : ''} | ${summarise(d.verdicts)} |`);
    }
    for (const e of r.drillErrors) lines.push(`| lab | ${e.nodes} | (none ran) | – | – | – | ${cell(e.error)} |`);
    const g = r.goldpinger;
    lines.push(
      '',
      `goldpinger: ${g.method} from its documented defaults (refresh-interval ${g.refreshIntervalS} s, jitter-factor ${g.jitterFactor}, ping-timeout ${g.pingTimeoutMs} ms): the earliest failed ping among the ping loops the fault breaks, before any Prometheus scrape or alert delay.`,
      '',
    );
  }
  lines.push(...kindSection(r));
  lines.push('## Aims', '');
  for (const a of aims(r)) lines.push(`- ${a.met === undefined ? '·' : a.met ? '✓' : '✗'} ${a.aim}: ${a.measured}`);
  lines.push('');
  return lines.join('\n');
}

/** The kind run, and each drill's p50 on kind beside the lab's at the same size: both from this run. */
function kindSection(r: BenchResults): string[] {
  const k = r.kind;
  const lines = [`## kind, ${k.nodes} nodes`, ''];
  if (k.skipped) return [...lines, `Not measured: ${k.skipped}.`, ''];
  lines.push(`images warm ${ms(k.imagesWarmMs)}; kind up to green ${ms(k.upMs)}; one pass of the drills ${ms(k.drillsPassMs)}; doctor, healthy ${ms(k.doctorHealthyMs)}${k.error ? `; stopped: ${k.error}` : ''}.`, '');
  const pairs = r.drills.filter((d) => d.backend === 'kind').map((kd) => [r.drills.find((d) => d.backend === 'lab' && d.nodes === kd.nodes && d.scenario === kd.scenario), kd] as const);
  if (!pairs.length) return lines;
  const ratio = (a: Percentiles | undefined, b: Percentiles | undefined) => (a && b && a.p50 > 0 ? `${(b.p50 / a.p50).toFixed(1)}×` : '–');
  lines.push('| scenario | MTTD p50, lab | MTTD p50, kind | kind ÷ lab | MTTR p50, lab | MTTR p50, kind | kind ÷ lab |', '|---|---:|---:|---:|---:|---:|---:|');
  for (const [l, kd] of pairs) lines.push(`| ${kd.scenario} | ${ms(l?.mttd?.p50)} | ${ms(kd.mttd?.p50)} | ${ratio(l?.mttd, kd.mttd)} | ${ms(l?.mttr?.p50)} | ${ms(kd.mttr?.p50)} | ${ratio(l?.mttr, kd.mttr)} |`);
  return [...lines, ''];
}

function scaleRow(s: ScaleRow): string {
  const probe = (p: ScaleRow['probeFull']) => (p ? `${ms(p.ms)} (${p.pings}${p.failed ? `, ${p.failed} failed` : ''})` : '–');
  const memory = s.memory ? `${s.memory.totalMiB} MiB (${s.memory.perNodeMiB})` : '–';
  const ref = s.reference?.upMs !== undefined ? `${ms(s.reference.upMs)}${s.labUpMs ? ` (${(s.labUpMs / s.reference.upMs).toFixed(0)}×)` : ''}` : s.reference?.skipped ? `– (${cell(s.reference.skipped)})` : '–';
  const fault = s.doctorFaultMs !== undefined ? `${ms(s.doctorFaultMs)}${s.faultFound === false ? ' (fault not found)' : ''}` : '–';
  return `| ${s.nodes} | ${ms(s.labUpMs)} | ${ms(s.labDownMs)} | ${probe(s.probeFull)} | ${probe(s.probeSampled)} | ${ms(s.doctorHealthyMs)} | ${fault} | ${ms(s.checksMs)} | ${memory} | ${ms(s.drillsPassMs)} | ${ms(s.labUpSteps?.nodes === undefined ? undefined : s.labUpSteps.nodes * 1000)} | ${ref} | ${s.error ? cell(s.error) : ''} |`;
}

const summarise = (verdicts: string[]) =>
  Object.entries(verdicts.reduce<Record<string, number>>((acc, v) => ({ ...acc, [v]: (acc[v] ?? 0) + 1 }), {}))
    .map(([v, n]) => `${n}× ${v}`)
    .join(', ');

/** Time against nodes (log scale) beside memory against nodes. */
export function scalingSvg(r: BenchResults): string {
  const series = (name: string, pick: (s: ScaleRow) => number | undefined): Series => ({ name, points: r.scale.map((s) => [s.nodes, pick(s)]) });
  const time: PanelOptions = {
    title: 'time against nodes',
    xLabel: 'nodes',
    yLabel: 'ms (log scale)',
    logY: true,
    width: 620,
    height: 460,
    series: [
      series('lab up', (s) => s.labUpMs),
      series('lab down', (s) => s.labDownMs),
      series('probe matrix, full', (s) => s.probeFull?.ms),
      series('probe matrix, sampled', (s) => s.probeSampled?.ms),
      series('doctor, healthy', (s) => s.doctorHealthyMs),
      series('doctor, one fault', (s) => s.doctorFaultMs),
      series('bash reference up', (s) => s.reference?.upMs),
    ],
  };
  const memory: PanelOptions = {
    title: 'lab memory against nodes',
    xLabel: 'nodes',
    yLabel: 'MiB (RSS of the lab processes)',
    width: 420,
    height: 460,
    series: [series('total', (s) => s.memory?.totalMiB), series('per node', (s) => s.memory?.perNodeMiB)],
  };
  const failed = r.scale.filter((s) => s.error).map((s) => `N=${s.nodes}: ${s.error!.split('\n')[0]!.slice(0, 80)}`);
  const m = r.machine;
  return svgDocument([time, memory], `${r.startedAt.slice(0, 16)} · ${m.cpus} CPUs, ${m.memoryGiB} GiB · load ${m.loadBefore[0]}→${m.loadAfter[0]}${failed.length ? ` · ${failed.join('; ')}` : ''}`);
}

/** bench/results.json, bench/results.md and bench/scaling.svg; returns their paths. */
export async function writeBenchOutputs(dir: string, r: BenchResults): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const files: [string, string][] = [
    ['results.json', `${JSON.stringify(r, null, 2)}\n`],
    ['results.md', resultsMarkdown(r)],
    ['scaling.svg', scalingSvg(r)],
  ];
  await Promise.all(files.map(([name, text]) => writeFile(join(dir, name), text)));
  return files.map(([name]) => join(dir, name));
}
