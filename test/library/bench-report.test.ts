import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { benchConfig } from '../../harness/bench/config.js';
import { panel, svgDocument } from '../../harness/bench/plot.js';
import { aims, resultsMarkdown, scalingSvg } from '../../harness/bench/report.js';
import { type BenchResults, goldpingerDetection, percentile, percentiles } from '../../harness/bench/results.js';

const results = (): BenchResults => ({
  startedAt: '2026-11-28T09:00:00.000Z',
  durationS: 120,
  machine: { cpus: 2, memoryGiB: 24, kernel: '6.1.0', node: 'v24.21.0', loadBefore: [1.5, 2, 2], loadAfter: [3, 2.5, 2] },
  nodes: [3, 10, 30],
  repeats: 3,
  scale: [
    { nodes: 3, labUpMs: 9000, labUpSteps: { nodes: 0.4, green: 9 }, labDownMs: 400, probeFull: { ms: 120, runs: [120, 110, 130], pings: 66, dns: 6, failed: 0 }, probeSampled: { ms: 60, runs: [60], pings: 18, dns: 3, failed: 0 }, doctorHealthyMs: 300, doctorFaultMs: 700, fault: 'ip-forward-off', faultFound: true, checksMs: 1.2, memory: { totalMiB: 900, perNodeMiB: 300, processes: 20, byComponentMiB: { 'lab-kubelet': 450 } }, drillsPassMs: 25_000, reference: { upMs: 300, downMs: 100 } },
    { nodes: 10, labUpMs: 25000, labDownMs: 900, probeFull: { ms: 700, runs: [700], pings: 620, dns: 20, failed: 0 }, doctorHealthyMs: 1500, reference: { skipped: 'needs dnsmasq | and more' } },
    { nodes: 30, error: 'lab up: nodes not Ready within 300 s', labDownMs: 2000 },
  ],
  drills: [
    { backend: 'lab', nodes: 3, scenario: 'cni0-deleted', verdicts: ['recovered', 'recovered', 'recovered'], mttd: { p50: 200, p95: 250, n: 3 }, mttr: { p50: 900, p95: 1200, n: 3 }, goldpinger: goldpingerDetection(4) },
    { backend: 'lab', nodes: 3, scenario: 'dns-unreachable-node', verdicts: ['recovered', 'not-recovered', 'recovered'], mttd: { p50: 280, p95: 400, n: 3 }, mttr: { p50: 3000, p95: 4000, n: 2 }, goldpinger: goldpingerDetection(4), goldpingerNote: 'the cutover only' },
    { backend: 'kind', nodes: 3, scenario: 'cni0-deleted', verdicts: ['recovered', 'recovered', 'recovered'], mttd: { p50: 400, p95: 450, n: 3 }, mttr: { p50: 1800, p95: 2000, n: 3 }, goldpinger: goldpingerDetection(4) },
  ],
  drillErrors: [{ nodes: 30, error: 'lab up: nodes not Ready within 300 s' }],
  kind: { nodes: 3, imagesWarmMs: 700, upMs: 58_000, drillsPassMs: 40_000, doctorHealthyMs: 900 },
  goldpinger: { method: 'computed', refreshIntervalS: 30, jitterFactor: 0.05, pingTimeoutMs: 300 },
});

describe('bench statistics', () => {
  it('nearest-rank percentiles', () => {
    expect(percentile([5, 1, 3, 2, 4], 50)).toBe(3);
    expect(percentile([5, 1, 3, 2, 4], 95)).toBe(5);
    expect(percentile([7], 95)).toBe(7);
    expect(percentiles([])).toBeUndefined();
    expect(() => percentile([], 50)).toThrow();
  });

  it('goldpinger: one broken loop waits half a period at the median; more loops see the fault sooner', () => {
    const one = goldpingerDetection(1);
    // 30 s stretched by half the 5 % jitter, halved, plus the 300 ms timeout
    expect(one.p50).toBe(Math.round(30_750 / 2 + 300));
    expect(Math.abs(one.p95 - (30_750 * 0.95 + 300))).toBeLessThanOrEqual(1);
    const many = goldpingerDetection(58);
    expect(many.p50).toBeLessThan(one.p50);
    expect(many.p50).toBeGreaterThan(300);
    expect(() => goldpingerDetection(0)).toThrow();
  });
});

describe('bench table', () => {
  const md = resultsMarkdown(results());

  it('has one row per lab size and per drill, with the machine and its load', () => {
    expect(md).toContain('2 CPUs, 24 GiB');
    expect(md).toContain('load average 1.5 2 2 at the start, 3 2.5 2 at the end');
    expect(md).toMatch(/^\| 3 \| 9\.00 s \| 400 ms \| 120 ms \(66\) \| 60 ms \(18\) \| 300 ms \| 700 ms \| 1 ms \| 900 MiB \(300\) \| 25\.0 s \| 400 ms \| 300 ms \(30×\) \|/m);
    expect(md).toMatch(/^\| 10 \| 25\.0 s \|/m);
    expect(md).toMatch(/^\| 30 \| – \| 2\.00 s \|.*lab up: nodes not Ready within 300 s \|$/m);
    expect(md).toMatch(/^\| lab \| 3 \| cni0-deleted \| 200 ms \/ 250 ms \| 900 ms \/ 1\.20 s \| 5\.19 s \/ 16\.5 s \| 3× recovered \|$/m);
    expect(md).toContain('2× recovered, 1× not-recovered');
    expect(md).toContain('| lab | 30 | (none ran) |');
  });

  it('puts kind beside the lab, each drill as a ratio of the same run, and says when kind was not measured', () => {
    expect(md).toContain('images warm 700 ms; kind up to green 58.0 s; one pass of the drills 40.0 s; doctor, healthy 900 ms.');
    expect(md).toMatch(/^\| cni0-deleted \| 200 ms \| 400 ms \| 2\.0× \| 900 ms \| 1\.80 s \| 2\.0× \|$/m);
    expect(resultsMarkdown({ ...results(), kind: { nodes: 3, skipped: 'needs a Docker engine' } })).toContain('Not measured: needs a Docker engine.');
    const a = aims(results());
    expect(a.find((x) => x.aim.startsWith('kind: MTTD'))).toMatchObject({ met: true, measured: '400 ms' });
    expect(a.find((x) => x.aim.startsWith('kind: cluster with flannel'))).toMatchObject({ met: true, measured: '58.0 s' });
  });

  it('escapes a pipe inside a cell', () => {
    expect(md).toContain('needs dnsmasq \\| and more');
    for (const line of md.split('\n').filter((l) => l.startsWith('| 10 |'))) expect(line.split(/(?<!\\)\|/).length).toBe(15);
  });

  it('judges each aim from the figures, and says when one was not measured', () => {
    const a = aims(results());
    expect(a.find((x) => x.aim.startsWith('3-node lab up'))).toMatchObject({ met: false, measured: '9.0 s' });
    expect(a.find((x) => x.aim.startsWith('MTTD < 0.3 s per drill at N = 3'))).toMatchObject({ met: true, measured: '280 ms' });
    expect(a.find((x) => x.aim.startsWith('the 2 drills end to end'))).toMatchObject({ met: true, measured: '25.0 s' });
    expect(a.find((x) => x.aim.startsWith('50-node lab up'))).toMatchObject({ met: undefined, measured: 'not measured' });
  });
});

describe('bench plot', () => {
  it('is well-formed SVG with one line per series that has two points, and the failed size in the caption', () => {
    const svg = scalingSvg(results());
    expect(XMLValidator.validate(svg)).toBe(true);
    const doc = new XMLParser({ ignoreAttributes: false }).parse(svg);
    expect(doc.svg['@_width']).toBe('1040');
    // lab up, lab down, probe full, doctor healthy have 2 points (N=3, 10); the memory total and per node have 1
    expect(svg.match(/<polyline/g)).toHaveLength(4);
    expect(svg).toContain('N=30: lab up: nodes not Ready within 300 s');
  });

  it('puts larger values higher, on a log or linear axis', () => {
    for (const logY of [true, false]) {
      const g = panel({ title: 't', xLabel: 'x', yLabel: 'y', width: 400, height: 300, logY, series: [{ name: 'a', points: [[1, 10], [2, 1000]] }] });
      const [, y1, y2] = /points="[\d.]+,([\d.]+) [\d.]+,([\d.]+)"/.exec(g)!.map(Number);
      expect(y2!).toBeLessThan(y1!);
    }
  });

  it('breaks a line where a value is missing, and escapes names', () => {
    const g = panel({ title: 'a < b & c', xLabel: 'x', yLabel: 'y', width: 400, height: 300, series: [{ name: '<s>', points: [[1, 1], [2, undefined], [3, 2], [4, 3]] }] });
    expect(g.match(/<polyline/g)).toHaveLength(1);
    expect(g.match(/<circle/g)).toHaveLength(3);
    expect(g).toContain('a &lt; b &amp; c');
    expect(XMLValidator.validate(svgDocument([{ title: '&', xLabel: 'x', yLabel: 'y', width: 300, height: 200, series: [] }], 'c'))).toBe(true);
  });
});

describe('bench settings', () => {
  it('defaults to 3, 10, 30, 50 nodes with drills at 3 and 30', () => {
    const c = benchConfig({}, '/repo');
    expect(c).toMatchObject({ nodes: [3, 10, 30, 50], drillNodes: [3, 30], repeats: 3, outDir: '/repo/bench', referenceScript: '/shared/reference/flannel-netns-lab.sh' });
  });

  it('runs drills only at measured sizes, sorted', () => {
    expect(benchConfig({ FIREDRILL_BENCH_NODES: '10, 3', FIREDRILL_BENCH_DRILL_NODES: '3,30' }, '/r')).toMatchObject({ nodes: [3, 10], drillNodes: [3] });
  });

  it('refuses a size the lab cannot have, saying how to set it', () => {
    expect(() => benchConfig({ FIREDRILL_BENCH_NODES: '3,500' }, '/r')).toThrow(/FIREDRILL_BENCH_NODES/);
    expect(() => benchConfig({ FIREDRILL_BENCH_NODES: 'x' }, '/r')).toThrow(/bad bench settings/);
    expect(() => benchConfig({ FIREDRILL_BENCH_REPEATS: '0' }, '/r')).toThrow(/FIREDRILL_BENCH_REPEATS/);
  });
});
