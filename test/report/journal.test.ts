import { readFile, writeFile } from 'node:fs/promises';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { journalJsonSchema, RunJournal } from '../../harness/report/journal.js';
import { readRunJournal } from '../../harness/report/run-journal.js';
import { flakyRun } from './journals.js';

const committed = JSON.parse(await readFile(new URL('../../schema/journal.schema.json', import.meta.url), 'utf8')) as Record<string, unknown>;
// A journal `firedrill run --name rep --repeat 3 --report DIR` wrote on a lab (cut to two probe matrices per drill, of four pings and two lookups).
const labRun = JSON.parse(await readFile(new URL('fixtures/lab-run.json', import.meta.url), 'utf8')) as unknown;
const ajv = new Ajv2020({ allErrors: true, strict: true });
addFormats.default(ajv);
const validate = ajv.compile(committed);

describe('the journal contract', () => {
  it('the committed JSON Schema is the one generated from the zod definition (npm run schema regenerates it)', async () => {
    await expect(`${JSON.stringify(journalJsonSchema(), null, 2)}\n`).toMatchFileSnapshot('../../schema/journal.schema.json');
  });

  it('a journal a real lab run wrote validates against the committed schema and the zod definition', () => {
    expect(validate(labRun), JSON.stringify(validate.errors)).toBe(true);
    const run = RunJournal.parse(labRun);
    expect(run.drills).toHaveLength(18);
    expect(run.clusters[0]?.nodes.map((n) => n.name)).toEqual(['rep-control-plane', 'rep-worker', 'rep-worker2']);
    expect(run.components.flannel).toMatch(/^v\d/);
  });

  it('what the reporters build from validates too', () => {
    expect(validate(JSON.parse(JSON.stringify(flakyRun()))), JSON.stringify(validate.errors)).toBe(true);
  });

  it('the schema rejects a journal with a verdict nobody knows or a drill without its steps', () => {
    const bad = structuredClone(labRun) as { drills: Record<string, unknown>[] };
    bad.drills[0]!.verdict = 'sort-of';
    delete bad.drills[1]!.steps;
    expect(validate(bad)).toBe(false);
    expect(validate.errors?.map((e) => e.instancePath)).toEqual(expect.arrayContaining(['/drills/0/verdict', '/drills/1']));
  });

  it('firedrill report names what is wrong in a journal, and an old per-drill array by its version', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'firedrill-journal-'));
    const bad = structuredClone(labRun) as { drills: Record<string, unknown>[] };
    bad.drills[2]!.verdict = 'sort-of';
    await writeFile(join(dir, 'bad.json'), JSON.stringify(bad));
    await expect(readRunJournal(join(dir, 'bad.json'))).rejects.toThrow(/journal .*bad.json is not a valid firedrill journal: drills\.2\.verdict: /);
    await writeFile(join(dir, 'old.json'), JSON.stringify((labRun as { drills: unknown[] }).drills));
    await expect(readRunJournal(join(dir, 'old.json'))).rejects.toThrow('has schema version undefined; this firedrill reads version 1');
    await expect(readRunJournal(join(dir, 'none.json'))).rejects.toThrow(/cannot read journal .*none.json/);
  });
});
