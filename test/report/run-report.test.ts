import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunJournal } from '../../harness/report/journal.js';
import { firedrill, labUnavailable, leftovers } from '../support/lab.js';

// `firedrill run --report` on its own lab, with a remediation that works only the first time:
// the scenario is flaky on purpose, and every report must say so from the journal alone.
const unavailable = await labUnavailable();
const LAB = 'repf';
let scratch: string;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'firedrill-report-'));
});
afterAll(async () => {
  await firedrill(['lab', 'down', '--name', LAB]);
  await rm(scratch, { recursive: true, force: true });
});

describe('firedrill report', () => {
  it('refuses a file that is not a journal, with exit 2', async () => {
    const file = join(scratch, 'not-a-journal.json');
    await writeFile(file, '[]');
    const r = await firedrill(['report', file]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('has schema version undefined; this firedrill reads version 1');
  });
});

describe.skipIf(unavailable)(`firedrill run --report on its own lab (${unavailable ?? 'root and components present'})`, () => {
  it('writes every report of a run with a flaky scenario, and firedrill report rebuilds them from the journal alone', { timeout: 300_000 }, async () => {
    const out = join(scratch, 'out');
    const summary = join(scratch, 'step-summary.md');
    const script = join(scratch, 'works-once.sh');
    await writeFile(script, `#!/bin/sh\n[ -e "${scratch}/ran" ] && exit 0\ntouch "${scratch}/ran"\nexec ip netns exec "$FIREDRILL_TARGET_NODE" sysctl -w net.ipv4.ip_forward=1\n`, { mode: 0o755 });
    const r = await firedrill(['run', 'ip-forward-off', '--repeat', '2', '--repair', `exec:${script}`, '--name', LAB, '--report', out], { GITHUB_STEP_SUMMARY: summary });
    expect(r.exitCode, r.stderr).toBe(1);
    expect(r.stdout).toContain(`FLAKY ip-forward-off (exec ${script}, lab): recovered 1/2; failed in #2 not-recovered`);
    const t = String.raw`\d+(?: ms|\.\d s)`;
    // the failed repeat timed no recovery: MTTR comes from one repeat
    expect(r.stdout).toMatch(new RegExp(String.raw`^ip-forward-off\s+exec \S+\s+1/2\s+${t} / ${t} / ${t}\s+(${t}) / \1 / \1\s+FLAKY$`, 'm'));
    expect((await readdir(out)).sort()).toEqual(['allure-results', 'journal.json', 'junit.xml', 'timeline.svg']);

    const journal = JSON.parse(await readFile(join(out, 'journal.json'), 'utf8')) as unknown;
    const schema = JSON.parse(await readFile(new URL('../../schema/journal.schema.json', import.meta.url), 'utf8')) as object;
    const ajv = new Ajv2020({ strict: true });
    addFormats.default(ajv);
    const validate = ajv.compile(schema);
    expect(validate(journal), JSON.stringify(validate.errors)).toBe(true);
    const run = RunJournal.parse(journal);
    expect(run.argv).toEqual(['run', 'ip-forward-off', '--repeat', '2', '--repair', `exec:${script}`, '--name', LAB, '--report', out]);
    expect(run.clusters).toEqual([{ backend: 'lab', name: LAB, nodes: [expect.objectContaining({ name: `${LAB}-control-plane` }), expect.objectContaining({ name: `${LAB}-worker` }), expect.objectContaining({ name: `${LAB}-worker2` })] }]);
    expect(run.drills.map((d) => [d.repeat, d.verdict])).toEqual([[1, 'recovered'], [2, 'not-recovered']]);
    expect(run.drills[1]!.findings.remaining.map((f) => f.kind)).toContain('ip-forward-off');

    const junit = await readFile(join(out, 'junit.xml'), 'utf8');
    const cases = (new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (n) => n === 'testcase' }).parse(junit) as { testsuites: { testsuite: { testcase: { name: string; failure?: { '#text': string } }[] } } }).testsuites.testsuite.testcase;
    expect(cases.map((c) => [c.name, !!c.failure])).toEqual([['ip-forward-off #1', false], ['ip-forward-off #2', true]]);
    expect(cases[1]!.failure!['#text']).toContain(`CRITICAL ip-forward-off [${LAB}-worker]`);
    expect((await readdir(join(out, 'allure-results'))).filter((f) => f.endsWith('-result.json'))).toHaveLength(2);
    expect(await readFile(summary, 'utf8')).toContain(`- FLAKY ip-forward-off (exec ${script}, lab): recovered 1/2; failed in #2 not-recovered`);

    const again = join(scratch, 'again');
    const rebuilt = await firedrill(['report', join(out, 'journal.json'), '--out', again]);
    expect(rebuilt.exitCode, rebuilt.stderr).toBe(0);
    expect(rebuilt.stdout).toContain('FLAKY ip-forward-off');
    expect(await readFile(join(again, 'junit.xml'), 'utf8')).toBe(junit);
    expect(await readFile(join(again, 'timeline.svg'), 'utf8')).toBe(await readFile(join(out, 'timeline.svg'), 'utf8'));
    expect(await leftovers(LAB)).toEqual([]);
  });
});
