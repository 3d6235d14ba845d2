import { afterAll, describe, expect, it } from 'vitest';
import { labDown } from '../../harness/backends/lab/lab-down.js';
import { type OperatorRow } from '../../harness/fuzz/fuzz.js';
import { run } from '../../src/exec.js';
import { cliPath, labUnavailable, leftovers } from '../support/lab.js';

// A short fixed-seed fuzz round on a lab the command makes and removes: every draw accounted
// for, the per-operator table, and not one false "repaired" claim. Needs root and `firedrill setup`.
const LAB = 'fz3';
const unavailable = await labUnavailable();

describe.skipIf(unavailable)(`firedrill fuzz on a lab (${unavailable ?? 'root and components present'})`, () => {
  afterAll(async () => {
    await labDown(LAB, () => undefined);
    expect(await leftovers(LAB)).toEqual([]);
  }, 60_000);

  it('runs 5 draws of up to 2 faults with seed 1: a table per operator, zero false claims', { timeout: 1_200_000 }, async () => {
    const r = await run(['node', cliPath, 'fuzz', '--name', LAB, '--seed', '1', '--draws', '5', '--faults', '2', '--json'], { check: false, timeoutMs: 1_150_000 });
    expect(r.exitCode, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { seed: number; operators: OperatorRow[]; results: { verdict: string; falseClaim: boolean; draw: { op: string }[] }[]; failures: { replay: string }[] };
    expect(out.seed).toBe(1);
    expect(out.results).toHaveLength(5);
    expect(out.results.filter((x) => x.falseClaim)).toEqual([]);
    const ops = new Set(out.results.flatMap((x) => x.draw.map((m) => m.op)));
    expect(out.operators.map((o) => o.op).sort()).toEqual([...ops].sort());
    for (const row of out.operators) {
      expect(row.symptomatic).toBeLessThanOrEqual(row.draws);
      expect(row.repaired).toBeLessThanOrEqual(row.symptomatic);
      expect(row.falseClaims).toBe(0);
    }
    for (const f of out.failures) expect(f.replay).toMatch(new RegExp(`^firedrill fuzz --name ${LAB} --replay '[a-z0-9.-]+@${LAB}-[a-z0-9-]+#\\d+(,[a-z0-9.-]+@${LAB}-[a-z0-9-]+#\\d+)*'$`));
    expect(await leftovers(LAB)).toEqual([]);
  });
});
