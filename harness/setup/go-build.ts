import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';
import { tryParseJson } from '../../src/json.js';
import { CommandError, type CommandResult, formatArgv, lastLines, run } from '../../src/exec.js';
import { type Component, expand } from '../components.js';
import { environmentError, failure } from '../errors.js';
import { goStubs } from './stubs.js';

export interface BuildOutcome {
  origin: string;
  substitutions: string[];
  /** binary -> expected version text (a fallback module reports its own version). */
  expect: Record<string, string>;
}

export interface BuildOptions {
  /** Where the go output goes line by line, for the failure log. */
  log: (line: string) => void;
  /** Called every few seconds while `go build` runs. */
  progress: (packagesCompiled: number) => void;
}

const ModuleInfo = z.object({ Version: z.string().optional(), GoMod: z.string().optional(), Error: z.string().optional() });

/** `go version`, or an environment error saying Go is needed. */
export async function goVersion(): Promise<string> {
  try {
    const r = await run(['go', 'env', 'GOVERSION'], { timeoutMs: 30_000 });
    return r.stdout.trim();
  } catch (e) {
    throw environmentError(
      'no Go toolchain found (needed to build the components from their Go modules)',
      'install Go (https://go.dev/doc/install) or let setup download release binaries: `firedrill setup --from download`',
      { cause: e },
    );
  }
}

/**
 * Builds a component's binaries from its upstream Go module at the pinned version,
 * in a throwaway module, into `outDir`. k8s.io/kubernetes gets its staging modules
 * pinned; a module the proxy does not serve gets its documented stub or fallback.
 */
export async function goBuild(c: Component, outDir: string, options: BuildOptions): Promise<BuildOutcome> {
  const gover = await goVersion();
  const work = await mkdtemp(join(tmpdir(), `firedrill-build-${c.name}-`));
  const env = goEnv(c.build.cgo);
  const go: Go = async (args, opts = {}) => {
    options.log(`$ ${formatArgv(['go', ...args])}`);
    try {
      const r = await run(['go', ...args], { cwd: work, env, ...opts });
      options.log(r.stdout + r.stderr);
      return r;
    } catch (e) {
      if (e instanceof CommandError) options.log(e.result.stdout + e.result.stderr);
      throw e;
    }
  };
  try {
    let { module, packages, ldflags } = c.build;
    let version = c.version;
    let expect = Object.fromEntries(Object.entries(c.binaries).map(([b, s]) => [b, expand(s.versionCheck.expect, c.version)]));
    const substitutions: string[] = [];

    await writeFile(join(work, 'go.mod'), `module firedrill.local/build/${c.name}\n\ngo ${gover.replace(/^go(\d+\.\d+).*/, '$1')}\n`);
    let info = await moduleInfo(go, module, version);
    if (info.Error && c.build.fallback) {
      const fb = c.build.fallback;
      substitutions.push(`${module}@${version} is not served by the Go module proxy; built ${fb.module}@${fb.version} instead: ${fb.why}`);
      ({ module, version, packages, ldflags } = fb);
      expect = Object.fromEntries(Object.keys(c.binaries).map((b) => [b, expand(fb.expect, fb.version)]));
      info = await moduleInfo(go, module, version);
    }
    if (info.Error || !info.GoMod) {
      throw failure(`${c.name}: cannot fetch ${module}@${version}: ${info.Error ?? 'no go.mod'}`, 'check that the Go module proxy is reachable (go env GOPROXY), or use `firedrill setup --from download`');
    }
    const required = parseRequires(await readFile(info.GoMod, 'utf8'));
    const replaces: string[] = [];
    if (c.build.replaceStaging) replaces.push(...stagingReplaces(await readFile(info.GoMod, 'utf8'), version));
    for (const [path, stub] of Object.entries(c.build.stubs)) {
      const wanted = required.get(path);
      if (!wanted) continue;
      if (!(await moduleInfo(go, path, wanted)).Error) continue;
      const dir = join(work, 'stubs', stub);
      for (const [file, text] of Object.entries(goStubs(stub))) {
        await mkdir(dirname(join(dir, file)), { recursive: true });
        await writeFile(join(dir, file), text);
      }
      replaces.push(`${path} => ./stubs/${stub}`);
      substitutions.push(`${path}@${wanted} is not served by the Go module proxy; replaced by a stub (only flannel's tencent-vpc backend uses it, and it now reports itself unavailable)`);
    }
    await writeFile(
      join(work, 'go.mod'),
      `${await readFile(join(work, 'go.mod'), 'utf8')}\nrequire ${module} ${version}\n${replaces.length ? `\nreplace (\n${replaces.map((r) => `\t${r}`).join('\n')}\n)\n` : ''}`,
    );
    await go(['get', `${module}@${version}`]);

    const tags = c.build.tags.length ? ['-tags', c.build.tags.join(',')] : [];
    const flags = ['-s', '-w', ...ldflags.map((f) => expand(f, version))].join(' ');
    const pkgs = Object.values(packages);
    const buildDir = join(work, 'out');
    await mkdir(buildDir);
    let compiled = 0;
    const ticker = setInterval(() => options.progress(compiled), 15_000);
    try {
      await go(['build', '-v', '-trimpath', ...tags, '-ldflags', flags, '-o', `${buildDir}/`, ...pkgs], {
        onStderrLine: (line) => {
          if (/^[\w.-]+(\/[\w.~-]+)*$/.test(line)) compiled++;
        },
      });
    } finally {
      clearInterval(ticker);
    }
    for (const [binary, pkg] of Object.entries(packages)) {
      await rename(join(buildDir, goOutputName(pkg)), join(outDir, binary));
    }
    return { origin: `go build ${pkgs.join(' ')} (${module}@${version}, ${gover})`, substitutions, expect };
  } catch (e) {
    if (e instanceof CommandError) {
      throw failure(
        `${c.name} ${c.version}: build failed: ${formatArgv(e.result.argv)} ${e.reason}\n${lastLines(e.result.stderr, 15)}`,
        'the full output is in the setup log named below; a network error means the Go module proxy is unreachable (try `firedrill setup --from download`)',
        { cause: e },
      );
    }
    throw e;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

function goEnv(cgo: boolean): Record<string, string> {
  return { GOTOOLCHAIN: 'local', GOFLAGS: '-mod=mod', GOWORK: 'off', CGO_ENABLED: cgo ? '1' : '0' };
}

type Go = (args: string[], opts?: { check?: boolean; onStderrLine?: (line: string) => void }) => Promise<CommandResult>;

/** `go mod download -json` prints the module's JSON, with an Error field (and status 1) when it cannot be had. */
async function moduleInfo(go: Go, module: string, version: string) {
  const r = await go(['mod', 'download', '-json', `${module}@${version}`], { check: false });
  const parsed = ModuleInfo.safeParse(tryParseJson(r.stdout));
  if (!parsed.success) return { Error: lastLines(r.stderr || r.stdout, 3) || `go mod download exited ${r.exitCode}` };
  return r.exitCode === 0 ? parsed.data : { ...parsed.data, Error: parsed.data.Error ?? `go mod download exited ${r.exitCode}` };
}

/** module path -> required version, from a go.mod's require lines. */
export function parseRequires(gomod: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of gomod.matchAll(/^\s*(?:require\s+)?([\w.\-/]+)\s+(v\S+)(?:\s+\/\/.*)?$/gm)) out.set(m[1]!, m[2]!);
  return out;
}

/** `k8s.io/api => ./staging/src/k8s.io/api` becomes `k8s.io/api => k8s.io/api v0.36.1`. */
export function stagingReplaces(gomod: string, kubernetesVersion: string): string[] {
  const staging = kubernetesVersion.replace(/^v1\./, 'v0.');
  return [...gomod.matchAll(/^\s*(k8s\.io\/[\w.-]+)\s+=>\s+\.\/staging\/src\/\S+\s*$/gm)].map((m) => `${m[1]} => ${m[1]} ${staging}`);
}

/** The file name `go build -o dir/` gives a main package: its last path element, skipping a /vN suffix. */
export function goOutputName(pkg: string): string {
  const last = basename(pkg);
  return /^v\d+$/.test(last) ? basename(dirname(pkg)) : last;
}
