import { type DrillJournal, type RunJournal } from './journal.js';
import { drillName } from './outcome.js';

/** The moments of a drill the picture marks, in the order they happen, with their colours. */
const MARKS = [
  { key: 'inject', label: 'fault injected (t0)', colour: '#d62728' },
  { key: 'symptom', label: 'symptom seen', colour: '#ff7f0e' },
  { key: 'detected', label: 'detected', colour: '#1f77b4' },
  { key: 'repaired', label: 'repair applied', colour: '#9467bd' },
  { key: 'recovered', label: 'recovered', colour: '#2ca02c' },
  { key: 'restored', label: 'restored', colour: '#7f7f7f' },
] as const;
type Mark = (typeof MARKS)[number]['key'];

const LABEL_W = 260;
const PLOT_W = 760;
const LANE_H = 46;
const TOP = 78;
const escape = (t: string) => t.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');
const secs = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;

/** Each mark of a drill in ms after its fault went in (t0 = the end of the inject step). */
export function drillMarks(d: DrillJournal): Partial<Record<Mark, number>> {
  const inject = d.steps.find((s) => s.name === 'inject');
  if (!inject) return {};
  const t0 = Date.parse(inject.endedAt);
  const after = (name: DrillJournal['steps'][number]['name']) => {
    const s = d.steps.find((x) => x.name === name);
    return s ? Date.parse(s.endedAt) - t0 : undefined;
  };
  const marks: Partial<Record<Mark, number>> = { inject: 0 };
  if (d.symptom?.atMs !== undefined) marks.symptom = d.symptom.atMs;
  if (d.detection?.mttdMs !== undefined) marks.detected = d.detection.mttdMs;
  const repaired = after('repair');
  if (repaired !== undefined && d.repair.length) marks.repaired = repaired;
  if (d.recovery?.mttrMs !== undefined) marks.recovered = d.recovery.mttrMs;
  const restored = after('restore');
  if (restored !== undefined) marks.restored = restored;
  return marks;
}

/** A tick step (1, 2 or 5 × 10^k ms) that gives about eight ticks over the range. */
function tickStep(rangeMs: number): number {
  const raw = rangeMs / 8;
  const power = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw)!;
}

/**
 * The run as a picture: one lane per drill, time since its fault went in on the x axis, a mark for
 * each moment and MTTD and MTTR as labelled spans. Plain SVG 1.1, readable in any viewer.
 */
export function formatTimeline(run: RunJournal): string {
  const repeated = run.repeat > 1;
  const lanes = run.drills.map((d) => ({ d, marks: drillMarks(d) }));
  const endMs = Math.max(1000, ...lanes.flatMap((l) => Object.values(l.marks)));
  const step = tickStep(endMs);
  const rangeMs = Math.ceil(endMs / step) * step;
  const x = (ms: number) => LABEL_W + (ms / rangeMs) * PLOT_W;
  const height = TOP + lanes.length * LANE_H + 40;
  const width = LABEL_W + PLOT_W + 30;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="10" y="20" font-size="15" font-weight="bold">${escape(`firedrill ${run.firedrill.version}: ${run.drills.length} drill(s) on ${run.clusters.map((c) => `${c.backend} ${c.name}`).join(', ')}, ${run.startedAt}`)}</text>`,
  ];
  MARKS.forEach((m, i) => {
    const lx = 10 + i * 150;
    out.push(`<circle cx="${lx + 5}" cy="40" r="5" fill="${m.colour}"/><text x="${lx + 14}" y="44">${escape(m.label)}</text>`);
  });
  out.push(`<rect x="${1000 - 60}" y="34" width="12" height="8" fill="#1f77b4" fill-opacity="0.35"/><text x="${1000 - 44}" y="43">MTTD</text>`);
  out.push(`<rect x="${1000 - 60}" y="48" width="12" height="8" fill="#2ca02c" fill-opacity="0.35"/><text x="${1000 - 44}" y="57">MTTR</text>`);
  for (let t = 0; t <= rangeMs; t += step) {
    out.push(`<line x1="${x(t)}" y1="${TOP - 8}" x2="${x(t)}" y2="${TOP + lanes.length * LANE_H}" stroke="#e0e0e0"/>`);
    out.push(`<text x="${x(t)}" y="${TOP + lanes.length * LANE_H + 16}" text-anchor="middle" fill="#555">${t % 1000 ? secs(t) : `${t / 1000} s`}</text>`);
  }
  out.push(`<text x="${LABEL_W + PLOT_W / 2}" y="${TOP + lanes.length * LANE_H + 32}" text-anchor="middle" fill="#555">time since the fault went in (t0)</text>`);
  lanes.forEach(({ d, marks }, i) => {
    const top = TOP + i * LANE_H;
    const ok = d.verdict === 'recovered';
    if (i % 2) out.push(`<rect x="0" y="${top}" width="${width}" height="${LANE_H}" fill="#f7f7f7"/>`);
    out.push(`<text x="10" y="${top + 18}" font-weight="bold" fill="${ok ? '#222' : '#c00'}">${escape(drillName(d, repeated))}${ok ? '' : ` ${escape(d.verdict.toUpperCase())}`}</text>`);
    out.push(`<text x="10" y="${top + 34}" fill="#555">${escape(`${d.backend}, ${d.target}, ${d.repairer}`.slice(0, 40))}</text>`);
    const spanBar = (ms: number | undefined, y: number, colour: string, label: string) => {
      if (ms === undefined) return;
      out.push(`<rect x="${x(0)}" y="${y}" width="${Math.max(1, x(ms) - x(0))}" height="10" fill="${colour}" fill-opacity="0.35"><title>${escape(`${label} ${secs(ms)}`)}</title></rect>`);
      out.push(`<text x="${x(ms) + 4}" y="${y + 9}" font-size="10" fill="#333">${escape(`${label} ${secs(ms)}`)}</text>`);
    };
    spanBar(d.detection?.mttdMs, top + 8, '#1f77b4', 'MTTD');
    spanBar(d.recovery?.mttrMs, top + 24, '#2ca02c', 'MTTR');
    for (const m of MARKS) {
      const at = marks[m.key];
      if (at === undefined) continue;
      out.push(`<circle cx="${x(at)}" cy="${top + LANE_H / 2}" r="5" fill="${m.colour}" stroke="#fff"><title>${escape(`${m.label} at ${secs(at)}`)}</title></circle>`);
    }
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
