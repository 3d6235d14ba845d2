import { join } from 'node:path';
import { z } from 'zod';
import { usageError } from '../errors.js';
import { MAX_NODES } from '../backends/lab/layout.js';

const nodeList = (name: string) =>
  z
    .string()
    .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean).map(Number))
    .pipe(z.array(z.number().int().min(1).max(MAX_NODES), { error: `${name}: comma-separated node counts from 1 to ${MAX_NODES}` }).min(1, `${name}: at least one node count`));

const BenchEnv = z.object({
  FIREDRILL_BENCH_NODES: nodeList('FIREDRILL_BENCH_NODES').default([3, 10, 30, 50]),
  FIREDRILL_BENCH_DRILL_NODES: nodeList('FIREDRILL_BENCH_DRILL_NODES').default([3, 30]),
  FIREDRILL_BENCH_REPEATS: z.coerce.number().int().min(1).max(50).default(3),
  FIREDRILL_BENCH_REFERENCE: z.string().min(1).optional(),
  FIREDRILL_BENCH_OUT: z.string().min(1).optional(),
  FIREDRILL_BENCH_KIND: z.enum(['0', '1'], { error: 'FIREDRILL_BENCH_KIND: 0 (leave kind out) or 1' }).default('1'),
});

export interface BenchConfig {
  /** Lab sizes, ascending. */
  nodes: number[];
  /** Sizes the drills run at (those also in `nodes`). */
  drillNodes: number[];
  repeats: number;
  /** Also drill a 3-node kind cluster when Docker can run one (FIREDRILL_BENCH_KIND, default 1). */
  kind: boolean;
  referenceScript: string;
  outDir: string;
}

/** The scale bench's settings from its environment variables, checked. */
export function benchConfig(env: Record<string, string | undefined>, root: string): BenchConfig {
  const parsed = BenchEnv.safeParse(env);
  if (!parsed.success) {
    throw usageError(`bad bench settings: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, 'e.g. FIREDRILL_BENCH_NODES=3,10 FIREDRILL_BENCH_DRILL_NODES=3 FIREDRILL_BENCH_REPEATS=3 npm run bench');
  }
  const e = parsed.data;
  const nodes = [...new Set(e.FIREDRILL_BENCH_NODES)].sort((a, b) => a - b);
  return {
    nodes,
    drillNodes: [...new Set(e.FIREDRILL_BENCH_DRILL_NODES)].filter((n) => nodes.includes(n)).sort((a, b) => a - b),
    repeats: e.FIREDRILL_BENCH_REPEATS,
    kind: e.FIREDRILL_BENCH_KIND === '1',
    referenceScript: e.FIREDRILL_BENCH_REFERENCE ?? join(root, '..', 'shared', 'reference', 'flannel-netns-lab.sh'),
    outDir: e.FIREDRILL_BENCH_OUT ?? join(root, 'bench'),
  };
}
