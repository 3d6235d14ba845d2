import { Document, isPair, isScalar, isSeq, visit } from 'yaml';
import { type Step } from '../../src/repairs/plan.js';
import { type Scenario, type ScenarioContext, targetCutOff } from '../../scenarios/scenario.js';
import { FAULT_PREFIX, PLACEHOLDER } from '../runbooks/format.js';
import { templateContext, toFileStep } from '../runbooks/show.js';
import { type RECOVERIES, type ScenarioStep, type SYMPTOMS } from './format.js';
import { scenarioSchemaPath } from './schema.js';

/**
 * A built-in scenario's symptom and recovery are code; these are the named ones that behave the same
 * (test/scenario-files checks each pair on sample probe reports).
 */
const NAMED: Record<string, { seen: keyof typeof SYMPTOMS; recovered?: keyof typeof RECOVERIES }> = {
  'dns-unreachable-node': { seen: 'dns-fails-elsewhere', recovered: 'others-green' },
};

/** The built-in's steps with variables in place of the cluster's values, or why a file cannot hold them. */
async function asFileSteps(build: (ctx: ScenarioContext) => Promise<Step[]>): Promise<{ steps: ScenarioStep[] } | { cannot: string }> {
  let steps: Step[];
  try {
    steps = await build(templateContext());
  } catch (e) {
    return { cannot: (e as Error).message.includes('live cluster') ? 'its steps are built from what it reads through the API of a live cluster' : (e as Error).message };
  }
  const out = steps.map((s): ScenarioStep => (s.kind === 'network-exec' ? { kind: 'network-exec', argv: s.argv, why: s.why } : toFileStep(s)));
  const recorded = [...JSON.stringify(out).matchAll(PLACEHOLDER)].map((m) => m[1]!).find((name) => name.startsWith(FAULT_PREFIX));
  if (recorded) return { cannot: `it uses {{${recorded}}}, a value the injection recorded, and a file records none` };
  return { steps: out };
}

/** The built-in's default target, as the keyword a file writes. */
function targetOf(s: Scenario): string {
  const ip = '{{node_ip}}';
  return s.defaultTarget([
    { name: 'control-plane', role: 'control-plane', ip },
    { name: 'first-worker', role: 'worker', ip },
    { name: 'second-worker', role: 'worker', ip },
  ]);
}

/** A built-in scenario as a scenario file, with a comment for each part a file cannot express. */
export async function showScenario(s: Scenario): Promise<string> {
  const cannot: string[] = [];
  const file: Record<string, unknown> = { id: s.id, title: s.title, incident: s.incident, target: targetOf(s) };
  for (const list of ['inject', 'restore'] as const) {
    const r = await asFileSteps(list === 'inject' ? s.inject : s.restore);
    if ('steps' in r) file[list] = r.steps;
    else cannot.push(`${list}: ${r.cannot}`);
  }
  const named = NAMED[s.id];
  const seen = s.symptom.seen === targetCutOff ? 'target-cut-off' : named?.seen;
  if (seen) file.symptom = { seen, description: s.symptom.description };
  else cannot.push(`symptom (${s.symptom.description}): no named symptom behaves the same`);
  const recovered = s.recovered ? named?.recovered : 'all-green';
  if (recovered) file.recovered = recovered;
  else cannot.push('recovered: no named recovery behaves the same');
  file.detects = s.detects;
  const runbooks = Object.keys(s.runbooks);
  const header = [
    `# yaml-language-server: $schema=${scenarioSchemaPath()}`,
    `# firedrill scenario: the built-in ${s.id}${cannot.length ? ', as far as a file can express it' : ''}`,
    ...(cannot.length ? ['# cannot be expressed in a file (left out below, so this file does not load as it is):', ...cannot.map((c) => `#   ${c}`)] : ['# drill it: firedrill run --scenario-file FILE']),
    ...(runbooks.length ? [`# its runbooks: ${runbooks.map((r) => `firedrill runbook show ${s.id} --variant ${r}`).join('; ')}`] : []),
  ];
  const doc = new Document(file);
  visit(doc, { Pair: (_, pair) => void (isPair(pair) && isScalar(pair.key) && (pair.key.value === 'argv' || pair.key.value === 'detects') && isSeq(pair.value) && (pair.value.flow = true)) });
  return `${header.join('\n')}\n${doc.toString({ lineWidth: 0 })}`;
}
