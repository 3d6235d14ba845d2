import { scenarios } from '../../scenarios/index.js';
import { type Scenario } from '../../scenarios/scenario.js';
import { usageError } from '../errors.js';
import { loadScenarioFile, type ScenarioSource } from '../scenario-files/load.js';
import { scenarioNamed } from './runbook-command.js';

type Say = (line: string) => void;

/** `run [scenario...] [--scenario-file FILE]`: the built-ins named (all of them when none is, nor a file), then the file's. */
export async function chooseScenarios(ids: string[], file: string | undefined, say: Say): Promise<Scenario[]> {
  const builtIns = ids.length ? ids.map(scenarioNamed) : file ? [] : scenarios;
  return file ? [...builtIns, (await loadScenarioFile(file, say)).scenario] : builtIns;
}

/** How inject and validate name their one scenario: a built-in by name (`named`, as the command spells it) or a file. */
interface OneScenario {
  command: string;
  named: string;
  id: string | undefined;
  file: string | undefined;
}

/** The one scenario of inject or validate, not both ways at once; a file's scenario comes with its source. */
export async function chooseScenario({ command, named, id, file }: OneScenario, say: Say): Promise<{ scenario: Scenario; source?: ScenarioSource }> {
  if (id && file) throw usageError(`${command}: ${named} (${id}) and --scenario-file (${file}) both name the scenario: give one of them`, 'a built-in incident by name (`firedrill scenarios` lists them), or your own with --scenario-file FILE');
  if (file) return loadScenarioFile(file, say);
  if (!id) throw usageError(`${command} needs ${named} or --scenario-file FILE: the incident to use`, '`firedrill scenarios` lists the built-in ones; `firedrill scenarios show ip-forward-off` prints one as a file to start from');
  return { scenario: scenarioNamed(id) };
}
