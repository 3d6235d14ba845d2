import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeAllureResults } from '../../harness/report/allure.js';
import { flakyRun } from './journals.js';

interface Result { name: string; status: string; statusDetails?: { message?: string; trace?: string }; labels: { name: string; value: string }[]; parameters: { name: string; value: string }[]; steps: { name: string; status: string; attachments: { name: string; source: string; type: string }[] }[] }

describe('Allure results from a journal', () => {
  it('a test per drill and repeat, phases as steps with their attachments, labelled, the failed one with why', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'firedrill-allure-'));
    writeAllureResults(flakyRun(), dir);
    const files = await readdir(dir);
    const results = await Promise.all(files.filter((f) => f.endsWith('-result.json')).map(async (f) => JSON.parse(await readFile(join(dir, f), 'utf8')) as Result));
    expect(results.map((r) => r.name).sort()).toEqual(['cni0-deleted #1', 'cni0-deleted #2', 'cni0-deleted #3', 'vxlan-blocked #1', 'vxlan-blocked #2', 'vxlan-blocked #3'].map((n) => `${n}: UDP 8472 dropped on a node`));
    const failed = results.find((r) => r.name.startsWith('vxlan-blocked #2'))!;
    expect(failed.status).toBe('failed');
    expect(failed.statusDetails?.message).toBe('not-recovered: verify: not recovered within 30000 ms; still found: vxlan-blocked@rep-worker');
    expect(failed.statusDetails?.trace).toContain('CRITICAL vxlan-blocked [rep-worker]: UDP 8472 is dropped on rep-worker');
    expect(Object.fromEntries(failed.labels.map((l) => [l.name, l.value]))).toMatchObject({ scenario: 'vxlan-blocked', backend: 'lab', target: 'rep-worker', repairer: 'the library' });
    expect(failed.parameters).toEqual(expect.arrayContaining([{ name: 'repeat', value: '2' }, { name: 'MTTR', value: '-' }]));
    expect(failed.steps.map((s) => [s.name.split(':')[0], s.status])).toEqual([
      ['steady-state', 'passed'], ['inject', 'passed'], ['symptom', 'passed'], ['detect', 'passed'], ['repair', 'passed'], ['verify', 'failed'], ['restore', 'passed'],
    ]);
    const attached = (step: string) => failed.steps.find((s) => s.name.startsWith(step))!.attachments;
    expect(attached('symptom').map((a) => a.name)).toEqual(['probe matrix during', 'probe matrix during (json)']);
    expect(await readFile(join(dir, attached('symptom')[0]!.source), 'utf8')).toContain('FAIL ping probe-a (rep-control-plane) -> probe-b 10.244.1.2 (rep-worker)');
    expect(await readFile(join(dir, attached('repair')[0]!.source), 'utf8')).toContain('FAIL rep-worker: iptables -D INPUT 1 (15 ms): exit 1: Bad rule');
    expect(await readFile(join(dir, attached('verify').find((a) => a.name === 'findings remaining')!.source), 'utf8')).toContain('observed -A INPUT -p udp --dport 8472 -j DROP');
    expect(results.filter((r) => r.status === 'passed')).toHaveLength(5);
    expect(await readFile(join(dir, 'environment.properties'), 'utf8')).toMatch(/^firedrill=\d[^\n]*\n(.|\n)*^component\.flannel=v/m);
  });
});
