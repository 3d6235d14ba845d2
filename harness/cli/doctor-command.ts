import { connect } from '../../src/kube/client.js';
import { diagnose, repairCluster } from '../../src/doctor.js';
import { labBackend } from '../backends/lab/backend.js';
import { ExitCode } from '../errors.js';
import { formatFindings, formatPlan, formatResults } from '../report/findings.js';
import { formatProbeReport } from '../report/probe.js';

export async function doctorCommand(flags: { name: string; repair?: boolean; json?: boolean; probe: boolean }): Promise<number> {
  const cluster = await labBackend().get(flags.name);
  const kube = await connect(cluster.kubeconfig);
  const started = performance.now();
  const diagnosis = await diagnose(kube, cluster.access, { probe: flags.probe });
  const diagnoseMs = Math.round(performance.now() - started);
  if (!flags.repair) {
    if (flags.json) process.stdout.write(`${JSON.stringify({ findings: diagnosis.findings, probe: diagnosis.observation.probe, durationMs: diagnoseMs }, null, 2)}\n`);
    else {
      // The findings carry the failing pairs as evidence; the probe's own summary line is enough here.
      if (diagnosis.observation.probe) process.stdout.write(`${formatProbeReport(diagnosis.observation.probe).split('\n').at(-1)}\n`);
      process.stdout.write(`${formatFindings(diagnosis.findings)}\n(diagnosed in ${diagnoseMs} ms)\n`);
    }
    return diagnosis.findings.some((f) => f.severity === 'critical') ? ExitCode.failure : ExitCode.ok;
  }
  if (!flags.json) process.stdout.write(`${formatFindings(diagnosis.findings)}\n`);
  const outcome = await repairCluster(kube, cluster.access, {
    from: diagnosis,
    onPlan: (plan) => !flags.json && process.stdout.write(`\n${formatPlan(plan)}\n`),
    onResult: (_plan, steps) => !flags.json && process.stdout.write(`applied:\n${formatResults(steps)}\n`),
  });
  if (flags.json) process.stdout.write(`${JSON.stringify({ before: diagnosis.findings, rounds: outcome.rounds, remaining: outcome.remaining }, null, 2)}\n`);
  else process.stdout.write(`\nverification: ${outcome.remaining.length ? `still found:\n${formatFindings(outcome.remaining)}` : 'no findings, probe matrix and DNS green'}\n`);
  return outcome.remaining.some((f) => f.severity === 'critical') ? ExitCode.failure : ExitCode.ok;
}
