/** A line plot as SVG text (no dependency: a few axes, polylines and a legend). */

export interface Series {
  name: string;
  /** [x, y] points; a y of undefined (a step that did not run) leaves a gap. */
  points: [number, number | undefined][];
}

export interface PanelOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  /** Logarithmic y axis (times spanning milliseconds to a minute). */
  logY?: boolean;
  width: number;
  height: number;
}

const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#17becf', '#bcbd22'];
const MARGIN = { left: 64, right: 16, top: 36, bottom: 44 };
const LEGEND_ROW = 16;

export const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** One panel: axes with ticks, a polyline and markers per series, a legend under the title. */
export function panel(o: PanelOptions): string {
  const xs = o.series.flatMap((s) => s.points.map(([x]) => x));
  const ys = o.series.flatMap((s) => s.points.flatMap(([, y]) => (y === undefined || (o.logY && y <= 0) ? [] : [y])));
  const legendHeight = Math.ceil(o.series.length / 2) * LEGEND_ROW;
  const top = MARGIN.top + legendHeight + 8;
  const plotW = o.width - MARGIN.left - MARGIN.right;
  const plotH = o.height - top - MARGIN.bottom;
  // From 0, with room right of the largest x so that its points stay off the frame.
  const [xMin, xMax] = [Math.min(0, ...xs), xs.length ? Math.max(...xs) * 1.05 : 1];
  const yScale = o.logY ? logScale(ys) : linearScale(ys);
  const px = (x: number) => MARGIN.left + ((x - xMin) / (xMax - xMin || 1)) * plotW;
  const py = (y: number) => top + plotH - yScale.at(y) * plotH;
  const out: string[] = [];
  out.push(`<text x="${o.width / 2}" y="18" text-anchor="middle" font-weight="bold">${escapeXml(o.title)}</text>`);
  o.series.forEach((s, i) => {
    const lx = MARGIN.left + (i % 2) * (plotW / 2);
    const ly = MARGIN.top + Math.floor(i / 2) * LEGEND_ROW + 8;
    out.push(`<line x1="${lx}" y1="${ly - 4}" x2="${lx + 18}" y2="${ly - 4}" stroke="${colour(i)}" stroke-width="2"/>`);
    out.push(`<text x="${lx + 22}" y="${ly}" font-size="11">${escapeXml(s.name)}</text>`);
  });
  out.push(`<rect x="${MARGIN.left}" y="${top}" width="${plotW}" height="${plotH}" fill="none" stroke="#444"/>`);
  for (const t of yScale.ticks) {
    const y = py(t).toFixed(1);
    out.push(`<line x1="${MARGIN.left}" y1="${y}" x2="${MARGIN.left + plotW}" y2="${y}" stroke="#ddd"/>`);
    out.push(`<text x="${MARGIN.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle" font-size="11">${formatTick(t)}</text>`);
  }
  for (const t of [...new Set(xs)].sort((a, b) => a - b)) {
    const x = px(t).toFixed(1);
    out.push(`<line x1="${x}" y1="${top + plotH}" x2="${x}" y2="${top + plotH + 4}" stroke="#444"/>`);
    out.push(`<text x="${x}" y="${top + plotH + 16}" text-anchor="middle" font-size="11">${t}</text>`);
  }
  out.push(`<text x="${MARGIN.left + plotW / 2}" y="${o.height - 8}" text-anchor="middle" font-size="12">${escapeXml(o.xLabel)}</text>`);
  out.push(`<text transform="translate(14 ${top + plotH / 2}) rotate(-90)" text-anchor="middle" font-size="12">${escapeXml(o.yLabel)}</text>`);
  o.series.forEach((s, i) => {
    for (const run of runs(s.points, o.logY ?? false)) {
      const coords = run.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`);
      if (run.length > 1) out.push(`<polyline fill="none" stroke="${colour(i)}" stroke-width="2" points="${coords.join(' ')}"/>`);
      for (const c of coords) {
        const [cx, cy] = c.split(',');
        out.push(`<circle cx="${cx}" cy="${cy}" r="3" fill="${colour(i)}"><title>${escapeXml(s.name)}</title></circle>`);
      }
    }
  });
  return out.join('\n');
}

/** Panels side by side in one SVG document, with a caption line under them. */
export function svgDocument(panels: PanelOptions[], caption: string): string {
  const width = panels.reduce((w, p) => w + p.width, 0);
  const height = Math.max(...panels.map((p) => p.height)) + 20;
  let x = 0;
  const groups = panels.map((p) => {
    const g = `<g transform="translate(${x} 0)">\n${panel(p)}\n</g>`;
    x += p.width;
    return g;
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    ...groups,
    `<text x="8" y="${height - 6}" font-size="11" fill="#555">${escapeXml(caption)}</text>`,
    '</svg>',
    '',
  ].join('\n');
}

/** Consecutive points with a value (drawn as one line); a missing value breaks the line. */
function runs(points: Series['points'], logY: boolean): [number, number][][] {
  const out: [number, number][][] = [[]];
  for (const [x, y] of [...points].sort((a, b) => a[0] - b[0])) {
    if (y === undefined || (logY && y <= 0)) out.push([]);
    else out.at(-1)!.push([x, y]);
  }
  return out.filter((r) => r.length);
}

interface Scale {
  /** Position of a value from 0 (bottom) to 1 (top). */
  at(v: number): number;
  ticks: number[];
}

function linearScale(values: number[]): Scale {
  const step = niceStep(Math.max(1e-9, ...values) / 4);
  const top = Math.ceil(Math.max(1e-9, ...values) / step) * step;
  return { at: (v) => v / top, ticks: Array.from({ length: Math.round(top / step) + 1 }, (_, i) => i * step) };
}

function logScale(values: number[]): Scale {
  const lo = Math.floor(Math.log10(Math.min(...(values.length ? values : [1]))));
  const hi = Math.max(lo + 1, Math.ceil(Math.log10(Math.max(...(values.length ? values : [10])))));
  const ticks = Array.from({ length: hi - lo + 1 }, (_, i) => 10 ** (lo + i));
  return { at: (v) => (Math.log10(v) - lo) / (hi - lo), ticks };
}

/** The smallest of 1, 2, 5 × a power of ten that is at least v. */
function niceStep(v: number): number {
  const p = 10 ** Math.floor(Math.log10(v));
  return ([1, 2, 5, 10].find((m) => m * p >= v) ?? 10) * p;
}

const formatTick = (t: number) => (t >= 1000 ? `${t / 1000}k` : t >= 1 ? String(Math.round(t * 100) / 100) : String(Number(t.toPrecision(2))));
const colour = (i: number) => COLOURS[i % COLOURS.length]!;
