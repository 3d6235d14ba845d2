import { connect } from '../../src/kube/client.js';
import { diagnose, repairCluster } from '../../src/doctor.js';
import { type ProbeMode } from '../../src/probes/probe.js';
import { type PlanResult } from '../../src/repairs/plan.js';
import { describeExpectation } from '../../src/repairs/postcondition.js';
import { ExitCode } from '../errors.js';
import { type ClusterFlags, withRunningCluster } from './cluster-flags.js';
import { formatFindings, formatPlan, formatResults } from '../report/findings.js';
import { formatProbeReport } from '../report/probe.js';
import { type Cluster } from '../backends/backend.js';

interface DoctorFlags {
  repair?: boolean;
  json?: boolean;
  probe: boolean;
  matrix: ProbeMode;
}

export async function doctorCommand(flags: ClusterFlags & DoctorFlags): Promise<number> {
  return withRunningCluster(flags, (cluster) => doctor(cluster, flags));
}

async function doctor(cluster: Cluster, flags: DoctorFlags): Promise<number> {
  const kube = await connect(cluster.kubeconfig);
  const started = performance.now();
  const diagnosis = await diagnose(kube, cluster.access, { probe: flags.probe, probeMode: flags.matrix });
  const diagnoseMs = Math.round(performance.now() - started);
  if (!flags.json) {
    // The findings carry the failing pairs as evidence; the probe's own summary line is enough here.
    if (diagnosis.observation.probe) process.stdout.write(`${formatProbeReport(diagnosis.observation.probe).split('\n').at(-1)}\n`);
    process.stdout.write(`${formatFindings(diagnosis.findings)}\n(diagnosed in ${diagnoseMs} ms)\n`);
  }
  if (!flags.repair) {
    if (flags.json) process.stdout.write(`${JSON.stringify({ findings: diagnosis.findings, probe: diagnosis.observation.probe, durationMs: diagnoseMs }, null, 2)}\n`);
    return diagnosis.findings.some((f) => f.severity === 'critical') ? ExitCode.failure : ExitCode.ok;
  }
  const outcome = await repairCluster(kube, cluster.access, {
    from: diagnosis,
    onPlan: (plan) => !flags.json && process.stdout.write(`\n${formatPlan(plan)}\n`),
    onResult: (result) => !flags.json && process.stdout.write(`applied:\n${formatResults(result.steps)}\n${formatVerdict(result)}\n`),
  });
  if (flags.json) process.stdout.write(`${JSON.stringify({ before: diagnosis.findings, rounds: outcome.rounds, remaining: outcome.remaining, unrepaired: outcome.unrepaired }, null, 2)}\n`);
  else {
    process.stdout.write(`\nverification: ${outcome.remaining.length ? `still found:\n${formatFindings(outcome.remaining)}` : 'no findings, probe matrix and DNS green'}\n`);
    if (outcome.unrepaired.length) process.stdout.write(`\ncould not repair (not applied again):\n${outcome.unrepaired.map(formatVerdict).join('\n')}\n`);
  }
  return outcome.unrepaired.length || outcome.remaining.some((f) => f.severity === 'critical') ? ExitCode.failure : ExitCode.ok;
}

/** Whether the plan's post-condition held afterwards and, if not, what was observed instead. */
function formatVerdict(r: PlanResult): string {
  const where = `${r.plan.repair}${r.plan.node ? ` [${r.plan.node}]` : ''}`;
  if (r.outcome === 'repaired') return `verified ${where}: ${r.plan.postcondition.map(describeExpectation).join('; ')}`;
  const why = r.outcome === 'no-effect' ? 'no effect: every step succeeded, but' : 'failed: a step failed, and';
  return [`FAILED ${where}: ${why}`, ...r.unmet.map((u) => `    expected ${describeExpectation(u.expected)}; observed ${JSON.stringify(u.observed)}`)].join('\n');
}
