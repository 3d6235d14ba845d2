import { ExitCode } from '../errors.js';
import { showScenario } from '../scenario-files/show.js';
import { scenarioNamed } from './runbook-command.js';

/** `firedrill scenarios show ID`: a built-in scenario as the YAML file a team starts its own from. */
export async function scenariosShowCommand(id: string): Promise<number> {
  process.stdout.write(await showScenario(scenarioNamed(id)));
  return ExitCode.ok;
}
