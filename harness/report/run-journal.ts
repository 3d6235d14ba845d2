import { readFile } from 'node:fs/promises';
import { arch, hostname, release } from 'node:os';
import { components } from '../components.js';
import { usageError } from '../errors.js';
import { packageInfo } from '../package-info.js';
import { type DrillJournal, JOURNAL_SCHEMA_VERSION, type JournalCluster, RunJournal } from './journal.js';
import { scenarioStats } from './stats.js';

export interface RunRecord {
  argv: string[];
  repeat: number;
  clusters: JournalCluster[];
  startedAt: Date;
  endedAt: Date;
  drills: DrillJournal[];
}

/** The run envelope around the drills: versions, host, clusters, and the per-scenario statistics. */
export function runJournal(run: RunRecord): RunJournal {
  return {
    schemaVersion: JOURNAL_SCHEMA_VERSION,
    firedrill: { version: packageInfo().version },
    components: Object.fromEntries(components().map((c) => [c.name, c.version])),
    host: { hostname: hostname(), kernel: release(), arch: arch(), node: process.versions.node },
    argv: run.argv,
    repeat: run.repeat,
    clusters: run.clusters,
    startedAt: run.startedAt.toISOString(),
    endedAt: run.endedAt.toISOString(),
    drills: run.drills,
    scenarios: scenarioStats(run.drills),
  };
}

/** A saved journal, checked against the contract: what is wrong is named with its path in the file. */
export async function readRunJournal(file: string): Promise<RunJournal> {
  let data: unknown;
  try {
    data = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw usageError(`cannot read journal ${file}: ${(e as Error).message}`, 'give the journal.json a `firedrill run --journal FILE` or `--report DIR` wrote');
  }
  const version = (data as { schemaVersion?: unknown } | null)?.schemaVersion;
  if (version !== JOURNAL_SCHEMA_VERSION) {
    throw usageError(`journal ${file} has schema version ${JSON.stringify(version)}; this firedrill reads version ${JOURNAL_SCHEMA_VERSION}`, 'render it with the firedrill version that wrote it (its journal says which: firedrill.version)');
  }
  const parsed = RunJournal.safeParse(data);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`);
    throw usageError(`journal ${file} is not a valid firedrill journal: ${issues.join('; ')}`, 'it must validate against schema/journal.schema.json');
  }
  return parsed.data;
}
