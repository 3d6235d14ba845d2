import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { drillMarks, formatTimeline } from '../../harness/report/timeline.js';
import { drill, flakyRun } from './journals.js';

const titles = (svg: string) => {
  expect(XMLValidator.validate(svg)).toBe(true);
  const titles: string[] = [];
  new XMLParser({ ignoreAttributes: false, stopNodes: [], isArray: () => true, tagValueProcessor: (name, value) => {
    if (name === 'title') titles.push(value);
    return value;
  } }).parse(svg);
  return titles;
};

describe('timeline picture', () => {
  it('places each moment of a drill after its fault went in', () => {
    expect(drillMarks(drill({ mttdMs: 300, mttrMs: 1200 }))).toEqual({ inject: 0, symptom: 150, detected: 300, repaired: 400, recovered: 1200, restored: 2000 });
    const failed = drillMarks(drill({ verdict: 'not-recovered' }));
    expect(failed.recovered).toBeUndefined();
    expect(failed.restored).toBe(2000);
  });

  it('draws one lane per drill with its marks and MTTD/MTTR spans, the failed one flagged', () => {
    const svg = formatTimeline(flakyRun());
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    const t = titles(svg);
    expect(t.filter((x) => x.startsWith('fault injected (t0) at'))).toHaveLength(6);
    expect(t.filter((x) => x.startsWith('recovered at'))).toHaveLength(5);
    expect(t).toContain('MTTD 0.60 s');
    expect(t).toContain('MTTR 3.00 s');
    expect(t).toContain('detected at 0.90 s');
    expect(svg).toContain('>vxlan-blocked #2 NOT-RECOVERED</text>');
    expect(svg).toContain('>cni0-deleted #3</text>');
    expect(svg).toContain('time since the fault went in (t0)');
  });
});
