import { describe, expect, it } from 'vitest';
import { formatMarkdown } from '../../harness/report/markdown.js';
import { drill, flakyRun, run } from './journals.js';

describe('CI job summary (Markdown)', () => {
  it('gives the drills, the percentiles, the flaky list and the reports', () => {
    const md = formatMarkdown(flakyRun(), ['out/junit.xml', 'out/timeline.svg']);
    expect(md).toMatch(/^## firedrill: 5\/6 drills recovered$/m);
    expect(md).toContain('| backend | # | scenario | target | repaired by | MTTD | MTTR | result |');
    expect(md).toContain('| lab | 2 | vxlan-blocked | rep-worker | the library | 600 ms | - | ❌ not-recovered: verify: not recovered within 30000 ms; still found: vxlan-blocked@rep-worker |');
    expect(md).toContain('| lab | cni0-deleted | the library | 3/3 | 220 ms / 230 ms / 230 ms | 1100 ms / 1200 ms / 1200 ms | passed |');
    expect(md).toContain('### Flaky\n\n- FLAKY vxlan-blocked (the library, lab): recovered 2/3; failed in #2 not-recovered');
    expect(md).toContain('- `out/timeline.svg`');
  });

  it('a single pass has no percentile table, and a | in text does not break the table', () => {
    const md = formatMarkdown(run([drill({ repairer: 'exec a|b' })]));
    expect(md).not.toContain('Over the repeats');
    expect(md).toContain('| lab | vxlan-blocked | rep-worker | exec a\\|b | 300 ms | 1200 ms | ✅ recovered |');
  });
});
