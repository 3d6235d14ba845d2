import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { formatJUnit } from '../../harness/report/junit.js';
import { drill, flakyRun, run } from './journals.js';

interface Property { name: string; value: string }
interface TestCase { name: string; classname: string; time: string; properties: { property: Property[] }; failure?: { '#text': string; message: string; type: string }; error?: { '#text': string; message: string }; 'system-out': string }
interface TestSuite { name: string; tests: string; failures: string; errors: string; properties: { property: Property[] }; testcase: TestCase[] }

const parse = (xml: string) => {
  expect(XMLValidator.validate(xml)).toBe(true);
  const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', parseAttributeValue: false, isArray: (name) => ['testsuite', 'testcase', 'property'].includes(name) }).parse(xml) as {
    testsuites: { tests: string; failures: string; errors: string; testsuite: TestSuite[] };
  };
  return doc.testsuites;
};
const props = (p: { property: Property[] }) => Object.fromEntries(p.property.map((x) => [x.name, x.value]));

describe('JUnit XML', () => {
  it('one testcase per drill and repeat, the failing one with verdict, reason and the findings left with their evidence', () => {
    const suites = parse(formatJUnit(flakyRun()));
    expect(suites).toMatchObject({ tests: '6', failures: '1', errors: '0' });
    expect(suites.testsuite).toHaveLength(1);
    const [suite] = suites.testsuite;
    expect(suite).toMatchObject({ name: 'lab: the library', tests: '6', failures: '1' });
    expect(props(suite!.properties)).toMatchObject({ backend: 'lab', repairer: 'the library', cluster: 'rep', nodes: 'rep-control-plane,rep-worker', 'component.flannel': expect.stringMatching(/^v/) });
    expect(suite!.testcase.map((c) => c.name)).toEqual(['cni0-deleted #1', 'vxlan-blocked #1', 'cni0-deleted #2', 'vxlan-blocked #2', 'cni0-deleted #3', 'vxlan-blocked #3']);

    const passed = suite!.testcase[1]!;
    expect(passed.failure).toBeUndefined();
    expect(passed.classname).toBe('firedrill.lab.vxlan-blocked');
    expect(props(passed.properties)).toEqual({ scenario: 'vxlan-blocked', repeat: '1', target: 'rep-worker', repairer: 'the library', verdict: 'recovered', mttdMs: '300', mttrMs: '1000' });
    expect(passed['system-out']).toContain('ok   detect: vxlan-blocked on rep-worker: MTTD 300 ms (300 ms)');

    const failed = suite!.testcase[3]!;
    expect(failed.failure?.type).toBe('not-recovered');
    expect(failed.failure?.message).toBe('not-recovered: verify: not recovered within 30000 ms; still found: vxlan-blocked@rep-worker');
    const body = failed.failure!['#text'];
    expect(body).toContain('verdict: not-recovered');
    expect(body).toContain('CRITICAL vxlan-blocked [rep-worker]: UDP 8472 is dropped on rep-worker');
    expect(body).toContain('rep-worker: iptables-save: observed -A INPUT -p udp --dport 8472 -j DROP, expected no DROP of UDP 8472');
    expect(props(failed.properties).mttrMs).toBe('');
    expect(failed['system-out']).toContain('repair:\n  FAIL rep-worker: iptables -D INPUT 1 (15 ms): exit 1: Bad rule');
  });

  it('one testsuite per backend and repairer; a drill that broke is an error; text that is not XML is escaped', () => {
    const xml = formatJUnit(
      run([
        drill({ backend: 'lab' }),
        drill({ backend: 'kind' }),
        drill({ backend: 'lab', repairer: 'runbook <naive> & "quick"', verdict: 'error', error: 'injection failed: exit 1 <stderr>\u0007' }),
      ]),
    );
    const suites = parse(xml);
    expect(suites.testsuite.map((s) => [s.name, s.tests])).toEqual([['lab: the library', '1'], ['kind: the library', '1'], ['lab: runbook <naive> & "quick"', '1']]);
    expect(suites).toMatchObject({ tests: '3', failures: '0', errors: '1' });
    const broken = suites.testsuite[2]!.testcase[0]!;
    expect(broken.name).toBe('vxlan-blocked');
    expect(broken.error?.message).toBe('error: injection failed: exit 1 <stderr>');
  });
});
