import { connect } from '../../src/kube/client.js';
import { type Backend, type Cluster } from '../backends/backend.js';
import { backendNamed } from '../backends/index.js';
import { ExitCode, usageError } from '../errors.js';
import { type DrawResult } from '../fuzz/draw.js';
import { drawsFor, failed, fuzz, type FuzzLab, type FuzzReport, perOperator } from '../fuzz/fuzz.js';
import { formatMutation, type Mutation, operators, parseDraw } from '../fuzz/operators.js';
import { interruptExitCode, interruptible } from '../interrupt.js';
import { table } from '../report/table.js';

export interface FuzzFlags {
  seed?: string;
  draws: string;
  faults: string;
  name: string;
  nodes: string;
  replay?: string;
  operators?: string[];
  shrink: boolean;
  keep?: boolean;
  json?: boolean;
}

const say = (line: string) => process.stderr.write(`${line}\n`);

export async function fuzzCommand(flags: FuzzFlags): Promise<number> {
  const count = positive(flags.draws, '--draws');
  const faults = positive(flags.faults, '--faults');
  const nodes = positive(flags.nodes, '--nodes');
  const seed = flags.seed === undefined ? Date.now() % 1_000_000 : Number(flags.seed);
  if (!Number.isInteger(seed)) throw usageError(`--seed must be an integer, not "${flags.seed}"`);
  const ops = flags.operators ?? operators.map((o) => o.id);
  const unknown = ops.filter((id) => !operators.some((o) => o.id === id));
  if (unknown.length) throw usageError(`unknown operator(s) ${unknown.join(', ')}`, `operators: ${operators.map((o) => o.id).join(', ')}`);
  let replay: Mutation[] | undefined;
  try {
    replay = flags.replay === undefined ? undefined : parseDraw(flags.replay);
  } catch (e) {
    throw usageError(`--replay: ${(e as Error).message}`, "write the draw as fuzz printed it: 'op@node#pick,op@node#pick'");
  }

  const backend = backendNamed('lab');
  const created = !(await backend.list()).includes(flags.name);
  let cluster: Cluster = created ? await backend.up({ name: flags.name, nodes, podsPerNode: 2, say: (l) => say(`lab: ${l}`) }) : await backend.get(flags.name);
  say(created ? `created lab ${flags.name}` : `using the running lab ${flags.name}`);
  const release = async () => {
    if (created && !flags.keep) await backend.down(flags.name, () => undefined);
  };
  const draws = replay ? [replay] : drawsFor(seed, count, faults, cluster.nodes.map((n) => n.name), ops);
  const report = await interruptible(
    async (signal) => {
      const lab: FuzzLab = { cluster, kube: await connect(cluster.kubeconfig) };
      const r = await fuzz(lab, {
        draws,
        shrink: flags.shrink,
        rebuild: async () => {
          cluster = await rebuild(backend, flags.name, cluster.nodes.length);
          return { cluster, kube: await connect(cluster.kubeconfig) };
        },
        say,
        signal,
      });
      await release();
      return r;
    },
    async () => {
      if (!created && interruptExitCode()) say(`interrupted: if a mutation is still in place in lab ${flags.name}, \`firedrill doctor --repair --name ${flags.name}\` or \`firedrill lab down --name ${flags.name}\` clears it`);
      await release();
    },
  );
  const replayCommand = (draw: Mutation[]) => `firedrill fuzz --name ${flags.name} --replay '${draw.map(formatMutation).join(',')}'`;
  if (flags.json) process.stdout.write(`${JSON.stringify({ seed, draws: count, faults, operators: perOperator(report.results), ...report, failures: report.failures.map((f) => ({ ...f, replay: replayCommand(f.minimal) })) }, null, 2)}\n`);
  else process.stdout.write(`${formatReport(report, replay ? 'replay' : `seed ${seed}, ${count} draws of 1..${faults} faults`, replayCommand)}\n`);
  const falseClaims = report.results.filter((r) => r.falseClaim).length;
  return falseClaims || (replay && report.results.some(failed)) ? ExitCode.failure : ExitCode.ok;
}

async function rebuild(backend: Backend, name: string, nodes: number): Promise<Cluster> {
  await backend.down(name, () => undefined);
  return backend.up({ name, nodes, podsPerNode: 2, say: (l) => say(`lab: ${l}`) });
}

const pct = (n: number, of: number) => (of ? `${Math.round((100 * n) / of)}% (${n}/${of})` : '-');

/** The per-operator table, the totals, and each failing draw with the command that replays its smallest failing part. */
function formatReport(report: FuzzReport, what: string, replayCommand: (draw: Mutation[]) => string): string {
  const rows = perOperator(report.results).map((r) => [r.op, String(r.draws), pct(r.symptomatic, r.draws), pct(r.detected, r.symptomatic), pct(r.repaired, r.symptomatic), String(r.falseClaims), `${(r.meanMs / 1000).toFixed(1)} s`]);
  const count = (v: DrawResult['verdict']) => report.results.filter((r) => r.verdict === v).length;
  const symptomatic = count('repaired') + count('not-repaired');
  const falseClaims = report.results.filter((r) => r.falseClaim).length;
  const lines = [
    `fuzz: ${what}`,
    table(['OPERATOR', 'DRAWS', 'SYMPTOM', 'DETECTED', 'REPAIRED', 'FALSE-CLAIMS', 'MEAN TIME'], rows),
    '',
    `draws: ${report.results.length}; symptomatic ${symptomatic}, repaired ${pct(count('repaired'), symptomatic)}; no symptom ${count('no-symptom')}; transient (red once, green with nothing repaired) ${count('transient')}; not applicable ${count('not-applicable')}; injection failed ${count('inject-failed')}; errors ${count('error')}`,
    `false "repaired" claims: ${falseClaims}${falseClaims ? ' (the library said repaired while the matrix was red: a soundness failure)' : ''}; red once right after a claim, green on the next probe: ${report.results.filter((r) => r.redAfterClaim && !r.falseClaim).length}`,
    `lab rebuilt ${report.rebuilds} time(s); ${(report.durationMs / 1000).toFixed(0)} s in all`,
  ];
  for (const f of report.failures) {
    lines.push(
      '',
      `${f.result.falseClaim ? 'FALSE CLAIM' : 'NOT REPAIRED'}: ${f.result.descriptions.join('; ')}`,
      `  found: ${f.result.findings.join(', ') || 'nothing'}`,
      `  still: ${f.result.remaining.join(', ') || 'nothing'}`,
      ...(f.result.redAfterClaim ? [`  red after the claim: ${f.result.redAfterClaim}`] : []),
      `  smallest failing draw: ${replayCommand(f.minimal)}`,
    );
  }
  for (const r of report.results.filter((x) => x.verdict === 'inject-failed' || x.verdict === 'error')) lines.push('', `${r.verdict === 'error' ? 'error' : 'injection failed'}: ${r.draw.map(formatMutation).join(',')}: ${r.error}`);
  return lines.join('\n');
}

function positive(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw usageError(`${flag} must be a positive integer, not "${value}"`);
  return n;
}
