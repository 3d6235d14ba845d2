import { appendFile, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type Component, components } from '../components.js';
import { FiredrillError, failure } from '../errors.js';
import { interruptible } from '../interrupt.js';
import { type CacheState, inspect, install, makeStaging, removeStaleStaging } from './cache.js';
import { download } from './download.js';
import { type BuildOutcome, goBuild, goVersion } from './go-build.js';
import { verifyVersion } from './verify.js';

export type From = 'auto' | 'build' | 'download';
export type Source = 'cache' | 'built' | 'downloaded';

export interface SetupOptions {
  root: string;
  from: From;
  say: (line: string) => void;
  /** Defaults to every component in the manifest. */
  components?: Component[];
}

export interface SetupResult {
  component: string;
  version: string;
  source: Source;
  path: string;
  seconds: number;
  substitutions: string[];
}

/** Makes every pinned component available under the cache root: cached, built or downloaded. */
export async function setupComponents(options: SetupOptions): Promise<SetupResult[]> {
  const list = options.components ?? components();
  for (const stale of await removeStaleStaging(options.root)) options.say(`removed ${stale} left by an interrupted setup`);
  const results: SetupResult[] = [];
  for (const [i, c] of list.entries()) {
    const tag = `[${i + 1}/${list.length}] ${c.name} ${c.version}`;
    const started = performance.now();
    const state = await inspect(options.root, c);
    if (state.state === 'ok') {
      options.say(`${tag}: cached (${state.meta.source}) in ${state.path}`);
      for (const note of state.meta.substitutions) options.say(`${tag}: note: ${note}`);
      results.push({ component: c.name, version: c.version, source: 'cache', path: state.path, seconds: secondsSince(started), substitutions: state.meta.substitutions });
      continue;
    }
    if (state.state === 'broken') options.say(`${tag}: the cached copy is broken (${state.reason}); replacing it`);
    const { source, path, substitutions } = await provide(c, tag, options);
    results.push({ component: c.name, version: c.version, source, path, seconds: secondsSince(started), substitutions });
  }
  return results;
}

async function provide(c: Component, tag: string, options: SetupOptions): Promise<{ source: Exclude<Source, 'cache'>; path: string; substitutions: string[] }> {
  const staging = await makeStaging(options.root, c);
  const logFile = join(options.root, 'logs', `${c.name}-${c.version}.log`);
  await mkdir(join(options.root, 'logs'), { recursive: true });
  const log = (line: string) => void appendFile(logFile, `${line}\n`).catch(() => undefined);
  const started = performance.now();
  try {
    return await interruptible(async (signal) => {
      const source = await chooseSource(c, options.from);
      signal.throwIfAborted();
      let outcome: BuildOutcome;
      if (source === 'built') {
        options.say(`${tag}: building from the Go module ${c.build.module}@${c.version} (a cold build takes about ${duration(c.build.coldBuildSeconds)} on 2 cores; Go's build cache makes a rebuild quick)`);
        outcome = await goBuild(c, join(staging, 'bin'), {
          log,
          progress: (n) => options.say(`${tag}: still building: ${n} packages compiled, ${duration(secondsSince(started))} elapsed`),
        });
      } else {
        options.say(`${tag}: downloading ${c.download?.length ?? 0} release artifact(s) and checking their sha256`);
        outcome = await download(c, join(staging, 'bin'), log);
      }
      signal.throwIfAborted();
      for (const binary of Object.keys(c.binaries)) {
        const problem = await verifyVersion(join(staging, 'bin', binary), c.binaries[binary]!.versionCheck.args, outcome.expect[binary]!);
        if (problem) throw failure(`${c.name}: the ${source} ${binary} is not the pinned version: ${problem}`, `see ${logFile}`);
      }
      for (const s of outcome.substitutions) options.say(`${tag}: note: ${s}`);
      const seconds = secondsSince(started);
      const path = await install(options.root, c, staging, {
        component: c.name,
        version: c.version,
        source,
        origin: outcome.origin,
        substitutions: outcome.substitutions,
        expect: outcome.expect,
        createdAt: new Date().toISOString(),
        seconds,
      });
      options.say(`${tag}: ${source} in ${duration(seconds)} -> ${path}`);
      return { source, path, substitutions: outcome.substitutions };
    }, () => rm(staging, { recursive: true, force: true }));
  } catch (e) {
    if (e instanceof FiredrillError) throw new FiredrillError(`${e.message}\n(setup log: ${logFile})`, e.exitCode, e.hint, { cause: e });
    throw e;
  }
}

async function chooseSource(c: Component, from: From): Promise<'built' | 'downloaded'> {
  if (from === 'build') return 'built';
  if (from === 'download') return 'downloaded';
  try {
    await goVersion();
    return 'built';
  } catch (e) {
    if (c.download?.length) return 'downloaded';
    throw e;
  }
}

export interface CheckResult {
  component: string;
  version: string;
  state: CacheState['state'];
  source?: 'built' | 'downloaded';
  path: string;
  detail: string;
}

/** What `setup --check` reports: one line per component, without changing anything. */
export async function checkComponents(root: string, list: Component[] = components()): Promise<CheckResult[]> {
  return Promise.all(
    list.map(async (c) => {
      const s = await inspect(root, c);
      const base = { component: c.name, version: c.version, state: s.state, path: s.path };
      if (s.state === 'ok') return { ...base, source: s.meta.source, detail: s.meta.substitutions.length ? s.meta.substitutions.join('; ') : s.meta.origin };
      if (s.state === 'broken') return { ...base, detail: s.reason };
      return { ...base, detail: 'not set up: run `firedrill setup`' };
    }),
  );
}

function secondsSince(start: number): number {
  return Math.round((performance.now() - start) / 100) / 10;
}

export function duration(seconds: number): string {
  if (seconds < 59.5) return `${seconds.toFixed(seconds < 9.95 ? 1 : 0)}s`;
  const whole = Math.round(seconds);
  return `${Math.floor(whole / 60)}m${String(whole % 60).padStart(2, '0')}s`;
}
