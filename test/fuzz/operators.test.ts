import { describe, expect, it } from 'vitest';
import { type DrawResult } from '../../harness/fuzz/draw.js';
import { drawsFor, perOperator, shrink } from '../../harness/fuzz/fuzz.js';
import { formatMutation, labFacts, type Mutation, operators, parseDraw } from '../../harness/fuzz/operators.js';
import { healthyLab } from '../support/fixtures.js';

// The fuzzer's pure parts: seeded draws, the operators resolved against a real lab snapshot, shrinking, the table.
const NODES = ['fd-control-plane', 'fd-worker', 'fd-worker2'];

describe('fuzz draws and operators', () => {
  it('draws the same mutations for the same seed, and others for another seed', () => {
    const a = drawsFor(1, 20, 2, NODES);
    expect(drawsFor(1, 20, 2, NODES)).toEqual(a);
    expect(drawsFor(2, 20, 2, NODES)).not.toEqual(a);
    expect(a.every((d) => d.length >= 1 && d.length <= 2)).toBe(true);
    expect(new Set(a.flat().map((m) => m.op)).size).toBeGreaterThan(5);
    expect(drawsFor(1, 10, 3, NODES, ['link-down']).flat().every((m) => m.op === 'link-down')).toBe(true);
  });

  it('prints a draw as it reads it back for --replay, and names what is wrong in one it cannot read', () => {
    const draw = drawsFor(7, 1, 3, NODES)[0]!;
    expect(parseDraw(draw.map(formatMutation).join(','))).toEqual(draw);
    expect(() => parseDraw('nope@fd-worker#1')).toThrow(/unknown operator "nope"/);
    expect(() => parseDraw('fdb-delete@fd-worker')).toThrow(/not op@node#pick/);
  });

  it('resolves every operator on every node of a real lab snapshot to inject steps and an undo', () => {
    const facts = labFacts(healthyLab());
    for (const op of operators) {
      for (const node of NODES) {
        for (const pick of [0, 1, 7, 9_999]) {
          const injection = op.resolve({ op: op.id, node, pick }, facts)!;
          expect(injection.inject.length, `${op.id}@${node}#${pick}`).toBeGreaterThan(0);
          expect(injection.undo.length, `${op.id}@${node}#${pick}`).toBeGreaterThan(0);
          for (const step of injection.inject.filter((s) => s.kind === 'exec')) expect(step.argv.some((a) => a === '' || a === 'undefined')).toBe(false);
        }
      }
    }
  });

  it('covers every netfilter table and hook, with both iptables backends and native nft', () => {
    const facts = labFacts(healthyLab());
    const iptables = Array.from({ length: 200 }, (_, pick) => operators.find((o) => o.id === 'iptables-drop')!.resolve({ op: 'iptables-drop', node: 'fd-worker', pick }, facts)!.inject[0]!);
    const seen = new Set(iptables.map((s) => (s.kind === 'exec' ? `${s.argv[0]} ${s.argv[3]} ${s.argv[5]}` : '')));
    for (const binary of ['iptables', 'iptables-legacy']) {
      for (const tc of ['raw PREROUTING', 'raw OUTPUT', 'mangle PREROUTING', 'mangle INPUT', 'mangle FORWARD', 'mangle OUTPUT', 'filter INPUT', 'filter FORWARD', 'filter OUTPUT']) expect(seen).toContain(`${binary} ${tc}`);
    }
    const nft = new Set(Array.from({ length: 12 }, (_, pick) => operators.find((o) => o.id === 'nft-drop')!.resolve({ op: 'nft-drop', node: 'fd-worker', pick }, facts)!.description.match(/hook (\w+)/)![1]));
    expect([...nft].sort()).toEqual(['forward', 'input', 'output', 'prerouting']);
  });

  it('shrinks a failing draw to the smallest set of mutations that still fails', async () => {
    const draw: Mutation[] = [
      { op: 'fdb-delete', node: 'fd-worker', pick: 1 },
      { op: 'link-down', node: 'fd-worker2', pick: 0 },
      { op: 'ip-forward-off', node: 'fd-worker', pick: 3 },
    ];
    const tried: string[] = [];
    const fails = async (sub: Mutation[]) => {
      tried.push(sub.map((m) => m.op).join('+'));
      return sub.some((m) => m.op === 'link-down') && sub.some((m) => m.op === 'ip-forward-off');
    };
    expect(await shrink(draw, fails)).toEqual([draw[1], draw[2]]);
    expect(tried.slice(0, 3)).toEqual(['fdb-delete', 'link-down', 'ip-forward-off']);
    expect(await shrink(draw, async () => false)).toEqual(draw);
  });

  it('tabulates per operator: symptom over draws, detection and repair over symptomatic draws, false claims apart', () => {
    const result = (op: string, verdict: DrawResult['verdict'], extra: Partial<DrawResult> = {}): DrawResult => ({
      draw: [{ op, node: 'fd-worker', pick: 0 }],
      descriptions: [],
      verdict,
      detected: verdict !== 'no-symptom',
      claimedRepaired: verdict === 'repaired',
      falseClaim: false,
      findings: [],
      remaining: [],
      durationMs: 1000,
      phases: {},
      ...extra,
    });
    const rows = perOperator([result('a', 'repaired'), result('a', 'no-symptom'), result('a', 'not-repaired', { detected: false, falseClaim: true }), result('b', 'repaired')]);
    expect(rows).toEqual([
      { op: 'a', draws: 3, symptomatic: 2, detected: 1, repaired: 1, falseClaims: 1, meanMs: 1000 },
      { op: 'b', draws: 1, symptomatic: 1, detected: 1, repaired: 1, falseClaims: 0, meanMs: 1000 },
    ]);
  });
});
