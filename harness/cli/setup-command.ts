import { components } from '../components.js';
import { ExitCode, usageError } from '../errors.js';
import { sayProgress } from '../progress.js';
import { table } from '../report/table.js';
import { defaultCacheRoot } from '../setup/cache.js';
import { checkComponents, duration, type From, setupComponents } from '../setup/setup.js';

export interface SetupFlags {
  check?: boolean;
  from: string;
  cacheDir?: string;
  only?: string[];
  json?: boolean;
}

export async function setupCommand(flags: SetupFlags): Promise<number> {
  const root = flags.cacheDir ?? defaultCacheRoot();
  const from = parseFrom(flags.from);
  const list = selectComponents(flags.only);
  if (flags.check) {
    const results = await checkComponents(root, list);
    if (flags.json) process.stdout.write(`${JSON.stringify({ cache: root, components: results }, null, 2)}\n`);
    else {
      process.stdout.write(
        `${table(
          ['COMPONENT', 'VERSION', 'STATE', 'SOURCE', 'PATH'],
          results.map((r) => [r.component, r.version, r.state, r.source ?? '-', r.path]),
        )}\n`,
      );
      for (const r of results.filter((r) => r.state !== 'ok' || r.detail.includes('not served'))) {
        process.stdout.write(`${r.component}: ${r.detail}\n`);
      }
    }
    return results.every((r) => r.state === 'ok') ? ExitCode.ok : ExitCode.failure;
  }
  const started = performance.now();
  const results = await setupComponents({ root, from, components: list, say: (l) => sayProgress(`setup: ${l}`) });
  if (flags.json) process.stdout.write(`${JSON.stringify({ cache: root, components: results }, null, 2)}\n`);
  else {
    process.stdout.write(
      `${table(
        ['COMPONENT', 'VERSION', 'SOURCE', 'TIME', 'PATH'],
        results.map((r) => [r.component, r.version, r.source, duration(r.seconds), r.path]),
      )}\n`,
    );
    process.stdout.write(`all ${results.length} components ready in ${duration((performance.now() - started) / 1000)} (cache: ${root})\n`);
  }
  return ExitCode.ok;
}

function parseFrom(value: string): From {
  if (value === 'auto' || value === 'build' || value === 'download') return value;
  throw usageError(`--from must be auto, build or download (got "${value}")`);
}

function selectComponents(only: string[] | undefined) {
  const all = components();
  if (!only?.length) return all;
  const unknown = only.filter((n) => !all.some((c) => c.name === n));
  if (unknown.length) throw usageError(`unknown component ${unknown.join(', ')}`, `known components: ${all.map((c) => c.name).join(', ')}`);
  return all.filter((c) => only.includes(c.name));
}
