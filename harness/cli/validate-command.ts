import { writeFile } from 'node:fs/promises';
import { connect } from '../../src/kube/client.js';
import { type Backend, type Cluster } from '../backends/backend.js';
import { ExitCode, usageError } from '../errors.js';
import { sayProgress } from '../progress.js';
import { interruptible } from '../interrupt.js';
import { formatProblem } from '../runbooks/lint.js';
import { readRunbookFile } from '../runner/runbook-file.js';
import { validateCount } from '../backends/lab/layout.js';
import { formatValidationStats, validationStats } from '../validate/repeat.js';
import { dryRun, type Validation, validateRunbook } from '../validate/validate.js';
import { type ClusterFlags, chooseCluster } from './cluster-flags.js';
import { chooseScenario } from './scenario-choice.js';

export interface ValidateFlags extends ClusterFlags {
  scenario?: string;
  scenarioFile?: string;
  target?: string;
  dryRun?: boolean;
  repeat?: string;
  json?: boolean;
  journal?: string;
  keep?: boolean;
}

const say = sayProgress;

/** `firedrill validate RUNBOOK --scenario S | --scenario-file FILE`: the runbook against the incident on a throwaway (or running) cluster. */
export async function validateCommand(path: string, flags: ValidateFlags): Promise<number> {
  const { scenario } = await chooseScenario({ command: 'validate', named: '--scenario', id: flags.scenario, file: flags.scenarioFile }, say);
  const { backend, name } = chooseCluster(flags);
  const repeat = validateCount('--repeat', flags.repeat ?? '1', 1, 100);
  const { file, lint } = await readRunbookFile(path);
  for (const w of lint.warnings) say(`warning: ${formatProblem(path, w)}`);
  return withCluster(backend, name, flags.keep ?? false, async (cluster, signal) => {
    const kube = await connect(cluster.kubeconfig);
    if (flags.target && !cluster.nodes.some((n) => n.name === flags.target)) throw usageError(`no node ${flags.target} in ${cluster.name}`, `nodes: ${cluster.nodes.map((n) => n.name).join(', ')}`);
    if (flags.dryRun) {
      const lines = await dryRun(cluster, kube, scenario, file, flags.target);
      process.stdout.write(`# ${path} against ${scenario.id} on ${cluster.backend} cluster ${cluster.name}: nothing was run\n${lines.join('\n')}\n`);
      return ExitCode.ok;
    }
    const vs: Validation[] = [];
    for (let i = 0; i < repeat; i++) {
      signal.throwIfAborted();
      if (repeat > 1) say(`[${i + 1}/${repeat}]`);
      const v = await validateRunbook({ scenario, runbook: file, runbookName: path, cluster, kube, ...(flags.target ? { target: flags.target } : {}), signal, say });
      vs.push(v);
      if (v.cleanup && v.cleanup !== 'back at steady state') {
        say('the cluster did not return to steady state: stopping here');
        break;
      }
    }
    // One validation prints as before; several, with what they add up to.
    const stats = repeat > 1 ? validationStats(vs) : undefined;
    const result = stats ? { validations: vs, stats } : vs[0]!;
    if (flags.journal) await writeFile(flags.journal, `${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(flags.json ? `${JSON.stringify(result, null, 2)}\n` : `${vs.map(formatValidation).join('')}${stats ? `${formatValidationStats(stats)}\n` : ''}`);
    return vs.length === repeat && vs.every((v) => v.ok) ? ExitCode.ok : ExitCode.failure;
  });
}

async function withCluster(backend: Backend, name: string, keep: boolean, body: (c: Cluster, signal: AbortSignal) => Promise<number>): Promise<number> {
  const running = (await backend.list()).includes(name);
  say(running ? `using the running ${backend.name} cluster ${name}` : `creating ${backend.name} cluster ${name}`);
  const cluster = running ? await backend.get(name) : await backend.up({ name, nodes: 3, podsPerNode: 2, say: (l) => say(`${backend.name}: ${l}`) });
  const release = async () => {
    await cluster.release?.();
    if (!running && !keep) await backend.down(name, (l) => say(`${backend.name}: ${l}`));
  };
  // Released inside the interruptible body: on Ctrl-C the process exits only once the body, cleanup included, is done.
  return interruptible(
    async (signal) => {
      try {
        return await body(cluster, signal);
      } finally {
        await release();
      }
    },
    async () => {},
  );
}

function formatValidation(v: Validation): string {
  const lines = [`runbook ${v.runbook} against ${v.scenario} on ${v.target} (${v.backend} cluster ${v.cluster})`];
  if (v.error) lines.push(`  error: ${v.error}`);
  if (v.steps.length) {
    lines.push('  steps:');
    for (const s of v.steps) lines.push(`    ${s.ok ? 'ok  ' : 'FAIL'} ${s.call}${s.exitCode !== undefined ? ` [exit ${s.exitCode}]` : ''} (${s.durationMs} ms)${s.error ? `: ${s.error.split('\n')[0]}` : ''}`);
  }
  if (!v.error) {
    lines.push(
      v.service.recovered
        ? `  service: recovered, ${v.service.afterFaultMs} ms after the fault (${v.service.afterRunbookMs} ms after the runbook started)`
        : `  service: NOT recovered; still failing: ${v.service.failing.slice(0, 6).join('; ')}${v.service.failing.length > 6 ? `; … ${v.service.failing.length - 6} more` : ''}`,
      v.unrepaired.length ? `  fault: NOT repaired, still found:\n${v.unrepaired.map((u) => `    - ${u}`).join('\n')}` : '  fault: repaired (none of its findings left)',
      v.collateral.length ? `  collateral damage:\n${v.collateral.map((d) => `    - ${d.detail}`).join('\n')}` : '  collateral damage: none',
    );
  }
  if (v.cleanup) lines.push(`  cleanup: ${v.cleanup}`);
  lines.push(`  verdict: ${v.ok ? 'PASS: recovered, fault repaired, no collateral damage' : 'FAIL'}`);
  return `${lines.join('\n')}\n`;
}
