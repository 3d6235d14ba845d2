import { appendFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { run } from '../../src/exec.js';
import { type Manifest, manifest as defaultManifest } from '../components.js';
import { failure } from '../errors.js';
import { interruptible } from '../interrupt.js';
import { defaultCacheRoot } from '../setup/cache.js';
import { Binaries } from './binaries.js';
import { buildContext } from './context.js';
import { buildImage, type Docker, type DockerApi, connectDocker, importRootfs, inspectImage, removeDanglingReplaced, removeLabelledContainers, removeReplaced } from './docker.js';
import { inputHashes, manifestHash } from './inputs.js';
import { type ImageKey, type KindImages, KUBEADM_PAUSE_TAG, kindImages, LABEL_BUILD, LABEL_IMAGE, LABEL_INPUTS, LABEL_MANIFEST, NODE_IMPORTED } from './names.js';
import { buildNodeImage } from './node-image.js';
import { WORK_PREFIX } from './prune.js';
import { debianMirror, debootstrap, removeRootfs } from './rootfs.js';
import { type ImageSpec, IMAGE_SPECS, parentsOf, specOf } from './specs.js';

export interface EnsureKindImagesOptions {
  /** Component cache root (default: setup's). */
  cacheRoot?: string;
  /** Rebuild every image, the Debian root file systems included. */
  force?: boolean;
  say: (line: string) => void;
  manifest?: Manifest;
  /** Only these images (and what they are built from); default: the node image and what is inside it. */
  only?: readonly ImageKey[];
}

export interface KindImageSet extends KindImages {
  /** What this call built, in build order, with the seconds each took. */
  built: { key: ImageKey; ref: string; seconds: number }[];
  /** Images that were already there with the right inputs. */
  reused: ImageKey[];
  /** The hash of harness/components.json every image built from it carries (label firedrill.manifest). */
  manifestHash: string;
  /** Per image, the hash of its inputs (label firedrill.inputs). */
  inputs: Record<ImageKey, string>;
}

/** The images a caller uses: the node image and what is inside it. The rest are built only when one of these needs them. */
const WANTED: readonly ImageKey[] = [...NODE_IMPORTED, 'kind-node'];

/**
 * Every image a kind drill cluster runs, built offline when missing or built from other inputs,
 * else reused (then this takes about a second). The kind backend calls it before creating a
 * cluster. On failure or Ctrl-C, helper containers and scratch files are removed.
 */
export async function ensureKindImages(o: EnsureKindImagesOptions): Promise<KindImageSet> {
  const m = o.manifest ?? defaultManifest;
  const names = kindImages(m);
  const inputs = await inputHashes(m);
  const docker = await connectDocker();
  const fresh = new Set<ImageKey>();
  for (const spec of IMAGE_SPECS) if (await isUpToDate(docker.api, names.byKey[spec.key], inputs[spec.key])) fresh.add(spec.key);
  const wanted = o.only ?? WANTED;
  const plan = planBuilds(fresh, !!o.force, wanted);
  const result: KindImageSet = { ...names, built: [], reused: wanted.filter((k) => !plan.includes(k)), manifestHash: manifestHash(m), inputs };
  if (!plan.length) {
    o.say(o.only ? `up to date: ${o.only.map((k) => names.byKey[k][0]).join(', ')}` : `all ${WANTED.length} images are up to date (${names.node} and the ${NODE_IMPORTED.length} images inside it)`);
    return result;
  }

  const cacheRoot = o.cacheRoot ?? defaultCacheRoot();
  const buildId = `${process.pid}-${Date.now().toString(36)}`;
  const work = await mkdtemp(join(tmpdir(), `${WORK_PREFIX}${process.pid}-`));
  const logFile = join(cacheRoot, 'logs', 'image-build.log');
  await mkdir(dirname(logFile), { recursive: true });
  const log = (line: string) => void appendFile(logFile, `${line}\n`).catch(() => undefined);
  const cleanup = async () => {
    await removeLabelledContainers(docker.api, LABEL_BUILD, buildId).catch(() => 0);
    await removeRootfs(work);
  };
  const builder: Builder = { docker, m, names, inputs, cacheRoot, buildId, work, say: o.say, log, binaries: new Binaries(m, cacheRoot, work, o.say, log), force: !!o.force };
  return interruptible(async (signal) => {
    for (const [i, key] of plan.entries()) {
      const ref = names.byKey[key][0]!;
      o.say(`[${i + 1}/${plan.length}] ${key}: building ${ref}`);
      const started = performance.now();
      await untilAborted(buildOne(builder, specOf(key)), signal);
      const seconds = Math.round((performance.now() - started) / 100) / 10;
      o.say(`[${i + 1}/${plan.length}] ${key}: built in ${seconds} s`);
      result.built.push({ key, ref, seconds });
    }
    await rm(work, { recursive: true, force: true });
    const swept = await removeDanglingReplaced(docker.api, LABEL_IMAGE);
    if (swept) o.say(`removed ${swept} image(s) replaced by earlier builds that nothing uses any more`);
    return result;
  }, cleanup);
}

/**
 * A step's promise, or a rejection as soon as the build is interrupted: the cleanup then removes
 * the helper container and scratch files from under the step (a docker build stops when its
 * client goes away) instead of waiting a minute for it to end.
 */
function untilAborted<T>(step: Promise<T>, signal: AbortSignal): Promise<T> {
  step.catch(() => undefined);
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    step.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** Each wanted image that is not up to date, and the parents those need that are not either; parents first. */
export function planBuilds(fresh: ReadonlySet<ImageKey>, force: boolean, wanted: readonly ImageKey[] = WANTED): ImageKey[] {
  const needed = new Set<ImageKey>();
  const want = (key: ImageKey) => {
    if (needed.has(key) || (!force && fresh.has(key))) return;
    needed.add(key);
    for (const parent of parentsOf(specOf(key))) want(parent);
  };
  for (const key of wanted) want(key);
  return IMAGE_SPECS.map((s) => s.key).filter((k) => needed.has(k));
}

/** Every reference of the image names one image carrying the expected inputs label. */
async function isUpToDate(api: DockerApi, refs: string[], inputs: string): Promise<boolean> {
  const states = await Promise.all(refs.map((r) => inspectImage(api, r)));
  return states.every((s) => s && s.id === states[0]!.id && s.labels[LABEL_INPUTS] === inputs);
}

interface Builder {
  docker: Docker;
  m: Manifest;
  names: KindImages;
  inputs: Record<ImageKey, string>;
  cacheRoot: string;
  buildId: string;
  work: string;
  binaries: Binaries;
  force: boolean;
  say: (line: string) => void;
  /** The build log (cache root's logs/image-build.log). */
  log: (line: string) => void;
}

async function buildOne(b: Builder, spec: ImageSpec): Promise<void> {
  const refs = b.names.byKey[spec.key];
  const ref = refs[0]!;
  const labels: Record<string, string> = { [LABEL_IMAGE]: spec.key, [LABEL_INPUTS]: b.inputs[spec.key] };
  if (spec.how !== 'debootstrap') labels[LABEL_MANIFEST] = manifestHash(b.m);
  const before = await inspectImage(b.docker.api, ref);

  if (spec.how === 'debootstrap') {
    const target = join(b.work, spec.key);
    const tarFile = `${target}.tar`;
    const mirror = await debianMirror();
    b.say(`${spec.key}: debootstrap --variant=minbase from ${mirror} with ${spec.packages.length} packages (about a minute)`);
    await debootstrap({ target, tarFile, packages: spec.packages, mirror, debCache: join(b.cacheRoot, 'images', 'debs'), log: b.log });
    await removeRootfs(target);
    await importRootfs(b.docker.api, tarFile, ref, ['ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'CMD ["bash"]', ...Object.entries(labels).map(([k, v]) => `LABEL ${k}=${v}`)]);
    await rm(tarFile, { force: true });
  } else if (spec.how === 'dockerfile') {
    const dir = join(b.work, `context-${spec.key}`);
    const contextTar = await buildContext(spec, dir, b.binaries, b.m.kind.version);
    const buildArgs = Object.fromEntries(Object.entries(spec.args).map(([arg, key]) => [arg, b.names.byKey[key][0]!]));
    await buildImage(b.docker.api, { contextTar, refs, buildArgs, labels, noCache: b.force });
    await rm(dir, { recursive: true, force: true });
    await rm(contextTar, { force: true });
  } else {
    const binaries = Object.fromEntries(await Promise.all(Object.entries(spec.binaries).map(async ([name, source]) => [name, await b.binaries.path(source)] as const)));
    if (binaries.kubeadm) await checkKubeadmImages(binaries.kubeadm, b);
    const workDir = join(b.work, 'node');
    await mkdir(workDir, { recursive: true });
    await buildNodeImage(b.docker, {
      base: b.names.byKey[spec.base][0]!,
      ref,
      kubernetesVersion: kubernetesVersion(b.m),
      binaries,
      imports: spec.imports.flatMap((k) => b.names.byKey[k]),
      labels,
      buildId: b.buildId,
      workDir,
      say: (line) => b.say(`${spec.key}: ${line}`),
    });
    await rm(workDir, { recursive: true, force: true });
  }

  const after = await inspectImage(b.docker.api, ref);
  if (before && after && before.id !== after.id && before.labels[LABEL_IMAGE] === spec.key) await removeReplaced(b.docker.api, before.id);
}

function kubernetesVersion(m: Manifest): string {
  const v = m.components.kubernetes?.version;
  if (!v) throw new Error('harness/components.json has no kubernetes component');
  return v;
}

/**
 * kubeadm decides which images a control plane pulls: each must be one built here, except etcd
 * and CoreDNS, whose tags the kind backend sets to firedrill's (etcd.local.imageTag, dns.imageTag).
 */
async function checkKubeadmImages(kubeadm: string, b: Builder): Promise<void> {
  const version = kubernetesVersion(b.m);
  const listed = (await run([kubeadm, 'config', 'images', 'list', '--kubernetes-version', version], { timeoutMs: 60_000 })).stdout.split('\n').filter(Boolean);
  const built = new Set(b.names.imported);
  const overridden = (image: string) => /^registry\.k8s\.io\/(etcd|coredns\/coredns):/.test(image);
  const unknown = listed.filter((image) => !built.has(image) && !overridden(image));
  if (unknown.length) {
    throw failure(
      `kubeadm ${version} wants ${unknown.join(', ')}, which firedrill does not build (pause is built as ${KUBEADM_PAUSE_TAG})`,
      'update harness/images/names.ts (KUBEADM_PAUSE_TAG, the image names) to what `kubeadm config images list` prints',
    );
  }
  for (const image of listed.filter((i) => !built.has(i))) {
    b.say(`kubeadm ${version} defaults to ${image}; the kind backend sets its tag to firedrill's (${image.includes('etcd') ? b.names.etcdTag : b.names.corednsTag})`);
  }
}
