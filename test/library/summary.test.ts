import { describe, expect, it } from 'vitest';
import { formatFidelity, formatSummary } from '../../harness/report/summary.js';
import { type DrillJournal } from '../../harness/runner/drill.js';

const journal = (over: Partial<DrillJournal>): DrillJournal => ({
  scenario: 'wrong-vtep-mac', title: '', target: 'fd-worker', backend: 'lab', cluster: 'fd', repairer: 'runbook naive', repeat: 1, startedAt: '',
  steps: [], injected: [], repair: [], restore: [], findings: { detected: [], remaining: [] }, probes: [], verdict: 'not-recovered', ...over,
});

describe('run summary', () => {
  it('reports when a runbook does what the incident says, and flags it when it does not', () => {
    const agree = formatSummary([journal({ incident: { says: 'did-not-recover', agrees: true } })]);
    expect(agree).toContain('as the incident says: wrong-vtep-mac runbook naive did not recover there; here: not-recovered');
    const found = formatSummary([journal({ verdict: 'recovered', incident: { says: 'did-not-recover', agrees: false }, recovery: { mttrMs: 900 } })]);
    expect(found).toContain('FOUND, unlike the incident report: wrong-vtep-mac runbook naive did not recover there; here: recovered');
    expect(found).toContain('1/1 drills recovered');
  });

  it('shows a drill without symptom or detection as such, not as a pass', () => {
    const out = formatSummary([journal({ scenario: 'no-op', repairer: 'the library', verdict: 'no-symptom', symptom: { seen: false, description: '' } })]);
    expect(out).toMatch(/no-op\s+fd-worker\s+the library\s+NO\s+NO\s+-\s+-\s+NO-SYMPTOM/);
    expect(out).toContain('0/1 drills recovered');
  });

  it('puts the backend first when the drills ran on several', () => {
    const out = formatSummary([journal({ backend: 'lab' }), journal({ backend: 'kind' })]);
    expect(out).toMatch(/^BACKEND\s+SCENARIO/m);
    expect(out).toMatch(/^kind\s+wrong-vtep-mac/m);
  });
});

describe('fidelity between backends', () => {
  it('puts each backend\'s verdict side by side and flags the ones that differ', () => {
    const out = formatFidelity([
      journal({ backend: 'lab', verdict: 'not-recovered' }),
      journal({ backend: 'kind', verdict: 'recovered' }),
      journal({ backend: 'lab', scenario: 'cni0-deleted', repairer: 'the library', verdict: 'recovered' }),
      journal({ backend: 'kind', scenario: 'cni0-deleted', repairer: 'the library', verdict: 'recovered' }),
    ]);
    expect(out).toMatch(/^SCENARIO\s+REPAIRED BY\s+LAB\s+KIND\s+FIDELITY$/m);
    expect(out).toMatch(/^wrong-vtep-mac\s+runbook naive\s+not-recovered\s+recovered\s+DIFFERS$/m);
    expect(out).toMatch(/^cni0-deleted\s+the library\s+recovered\s+recovered\s+same$/m);
    expect(out).toContain('1 verdict(s) differ between backends');
  });
});
