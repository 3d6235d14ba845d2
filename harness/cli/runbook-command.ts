import { scenarioById, scenarios } from '../../scenarios/index.js';
import { type Scenario } from '../../scenarios/scenario.js';
import { ExitCode, usageError } from '../errors.js';
import { formatProblem } from '../runbooks/lint.js';
import { showRunbook } from '../runbooks/show.js';
import { readRunbookFile } from '../runner/runbook-file.js';

export function scenarioNamed(id: string): Scenario {
  const s = scenarioById(id);
  if (!s) throw usageError(`unknown scenario "${id}"`, `scenarios: ${scenarios.map((x) => x.id).join(', ')}`);
  return s;
}

/** `firedrill runbook show SCENARIO [--variant V]`: a built-in runbook as the YAML file a team starts from. */
export async function runbookShowCommand(id: string, flags: { variant: string }): Promise<number> {
  const scenario = scenarioNamed(id);
  if (!scenario.runbooks[flags.variant]) throw usageError(`scenario ${id} has no runbook "${flags.variant}"`, `its runbooks: ${Object.keys(scenario.runbooks).join(', ')}`);
  process.stdout.write(await showRunbook(scenario, flags.variant));
  return ExitCode.ok;
}

/** `firedrill runbook lint FILE`: everything that can be checked without a cluster; warnings do not fail it. */
export async function runbookLintCommand(path: string): Promise<number> {
  const { file, lint } = await readRunbookFile(path);
  for (const w of lint.warnings) process.stderr.write(`warning: ${formatProblem(path, w)}\n`);
  process.stdout.write(`${path}: ${file.steps.length} step(s), ${lint.warnings.length} warning(s)\n`);
  return ExitCode.ok;
}
