import { access, constants, mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { run } from '../../src/exec.js';
import { tryParseJson } from '../../src/json.js';
import { type Component, components, type Manifest } from '../components.js';
import { environmentError, failure } from '../errors.js';
import { requireBinary } from '../setup/cache.js';
import { goBuild } from '../setup/go-build.js';
import { KUBEADM_PAUSE_TAG } from './names.js';
import { type BinarySource } from './specs.js';

const GO_ENV = { GOTOOLCHAIN: 'local', GOFLAGS: '-mod=mod', GOWORK: 'off' };
const ModuleInfo = z.object({ Dir: z.string().optional(), Error: z.string().optional() });

/** The directory of a Go module in the module cache (downloaded through the Go module proxy when absent). */
export async function goModuleDir(module: string, version: string): Promise<string> {
  const r = await run(['go', 'mod', 'download', '-json', `${module}@${version}`], { env: GO_ENV, check: false, timeoutMs: 600_000 }).catch((e: unknown) => {
    throw environmentError('no Go toolchain found (the kind images need files from Go modules)', 'install Go, or run ./ci/setup', { cause: e });
  });
  const info = ModuleInfo.safeParse(tryParseJson(r.stdout));
  if (r.exitCode !== 0 || !info.success || !info.data.Dir) {
    const why = (info.success && info.data.Error) || r.stderr.trim() || `go mod download exited ${r.exitCode}`;
    throw failure(`cannot fetch the Go module ${module}@${version}: ${why}`, 'check that the Go module proxy is reachable (go env GOPROXY)');
  }
  return info.data.Dir;
}

/**
 * Finds the binaries the images copy: setup's cache for the components (an error says to run
 * setup), a cache beside it for the few binaries built here from a component's Go module, and a
 * fresh static compile of pause.
 */
export class Binaries {
  private readonly resolved = new Map<string, Promise<string>>();

  constructor(
    private readonly m: Manifest,
    private readonly cacheRoot: string,
    private readonly workDir: string,
    private readonly say: (line: string) => void,
    private readonly log: (line: string) => void,
  ) {}

  path(source: BinarySource): Promise<string> {
    const id = JSON.stringify(source);
    let p = this.resolved.get(id);
    if (!p) {
      p = this.resolve(source);
      this.resolved.set(id, p);
    }
    return p;
  }

  private async resolve(source: BinarySource): Promise<string> {
    if (source.from === 'setup') return requireBinary(this.cacheRoot, this.component(source.component), source.binary);
    if (source.from === 'module') return this.moduleBinary(source);
    return this.pause();
  }

  private component(name: string): Component {
    const c = components(this.m).find((x) => x.name === name);
    if (!c) throw environmentError(`harness/components.json has no component "${name}", which the kind images need`, 'update firedrill (the manifest pins it)');
    return c;
  }

  /** A main package of a component's module that setup does not build, with the component's build settings, cgo off. */
  private async moduleBinary(s: Extract<BinarySource, { from: 'module' }>): Promise<string> {
    const c = this.component(s.component);
    const dir = join(this.cacheRoot, 'images', 'bin', `${c.name}-${c.version}`);
    const file = join(dir, s.name);
    try {
      await access(file, constants.X_OK);
      return file;
    } catch {
      // not built yet
    }
    this.say(`building ${s.name} from ${c.build.module}@${c.version}`);
    await mkdir(dir, { recursive: true });
    const staging = await mkdtemp(join(dir, `.staging-${s.name}-`));
    try {
      const extra: Component = {
        ...c,
        binaries: { [s.name]: { versionCheck: { args: [], expect: '' } } },
        build: { ...c.build, cgo: false, packages: { [s.name]: s.package }, fallback: undefined },
      };
      await goBuild(extra, staging, { log: this.log, progress: () => undefined });
      await rename(join(staging, s.name), file);
      return file;
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }

  /** k8s.io/kubernetes build/pause/linux/pause.c, compiled as its Makefile does (gcc -Os -static, stripped). */
  private async pause(): Promise<string> {
    const kube = this.component('kubernetes');
    const source = join(await goModuleDir(kube.build.module, kube.version), 'build', 'pause', 'linux', 'pause.c');
    const out = join(this.workDir, 'pause');
    try {
      await run(['gcc', '-Os', '-Wall', '-Werror', '-static', `-DVERSION=v${KUBEADM_PAUSE_TAG}-${kube.version}`, '-o', out, source], { timeoutMs: 120_000 });
      await run(['strip', out]);
    } catch (e) {
      throw environmentError(`cannot compile pause.c statically: ${e instanceof Error ? e.message : String(e)}`, 'install gcc and libc6-dev (./ci/setup does)', { cause: e });
    }
    return out;
  }
}
