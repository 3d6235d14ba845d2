import { createReadStream, createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { ContainerRuntimeClient } from 'testcontainers';
import { dockerClient } from '../docker/client.js';
import { failure } from '../errors.js';

/** testcontainers' bundled Docker API client. */
export type DockerApi = ContainerRuntimeClient['container']['dockerode'];
export type Testcontainers = typeof import('testcontainers');

export interface Docker {
  api: DockerApi;
  tc: Testcontainers;
}

/** The Docker engine (harness/docker/client.ts) and testcontainers itself, for image builds. */
export async function connectDocker(): Promise<Docker> {
  const client = await dockerClient();
  return { api: client.container.dockerode, tc: await import('testcontainers') };
}

export interface ImageState {
  id: string;
  labels: Record<string, string>;
}

/** The image behind a reference, or undefined when there is none. */
export async function inspectImage(api: DockerApi, ref: string): Promise<ImageState | undefined> {
  try {
    const info = await api.getImage(ref).inspect();
    return { id: info.Id, labels: info.Config?.Labels ?? {} };
  } catch (e) {
    if ((e as { statusCode?: number }).statusCode === 404) return undefined;
    throw e;
  }
}

interface ProgressEvent {
  stream?: string;
  status?: string;
  error?: string;
  errorDetail?: { message?: string };
}

/** Reads a build/import progress stream to its end; the engine reports failures inside it. */
async function followProgress(api: DockerApi, stream: NodeJS.ReadableStream, what: string): Promise<string[]> {
  const lines: string[] = [];
  const events = await new Promise<ProgressEvent[]>((resolve, reject) =>
    api.modem.followProgress(
      stream,
      (err: Error | null, out: ProgressEvent[]) => (err ? reject(err) : resolve(out)),
      (ev: ProgressEvent) => {
        const text = (ev.stream ?? ev.status ?? '').trimEnd();
        if (text) lines.push(...text.split('\n'));
      },
    ),
  );
  const error = events.find((e) => e.error || e.errorDetail);
  if (error) {
    throw failure(`${what}: ${error.errorDetail?.message ?? error.error}\n${lines.slice(-15).join('\n')}`, 'fix the cause above and run `firedrill image build` again');
  }
  return lines;
}

export interface BuildRequest {
  /** An uncompressed tar of the build context. */
  contextTar: string;
  refs: string[];
  buildArgs: Record<string, string>;
  labels: Record<string, string>;
  /** Ignore the engine's layer cache (a forced rebuild). */
  noCache: boolean;
}

/**
 * Builds with the engine's legacy builder (the API's build endpoint, version 1): FROM and
 * COPY --from name only local images, so nothing is pulled. Intermediate containers are
 * removed even when a step fails (forcerm).
 */
export async function buildImage(api: DockerApi, r: BuildRequest): Promise<string[]> {
  const [primary, ...more] = r.refs;
  if (!primary) throw new Error('buildImage: no reference');
  const stream = await api.buildImage(createReadStream(r.contextTar), {
    t: primary,
    buildargs: r.buildArgs,
    labels: r.labels,
    rm: true,
    forcerm: true,
    nocache: r.noCache,
    version: '1',
  });
  const log = await followProgress(api, stream, `docker build ${primary}`);
  await tagAll(api, primary, more);
  return log;
}

/** `docker import` of a root file system tar, with Dockerfile-style changes (LABEL, ENV, CMD). */
export async function importRootfs(api: DockerApi, tarFile: string, ref: string, changes: string[]): Promise<void> {
  const { repo, tag } = splitRef(ref);
  const stream = await api.importImage(tarFile, { repo, tag, changes });
  await followProgress(api, stream, `docker import ${ref}`);
}

/** `docker save` of several images into one archive (shared layers once). */
export async function saveImages(api: DockerApi, refs: string[], file: string): Promise<void> {
  // dockerode has getImages (GET /images/get?names=…); its type declarations lack it.
  const multi = api as unknown as { getImages(opts: { names: string[] }): Promise<NodeJS.ReadableStream> };
  const stream = await multi.getImages({ names: refs });
  await pipeline(stream, createWriteStream(file));
}

export async function tagAll(api: DockerApi, source: string, refs: string[]): Promise<void> {
  for (const ref of refs) {
    const { repo, tag } = splitRef(ref);
    await api.getImage(source).tag({ repo, tag });
  }
}

/** Removes an image firedrill replaced, unless something still uses it (then it stays, harmlessly). */
export async function removeReplaced(api: DockerApi, id: string): Promise<boolean> {
  try {
    await api.getImage(id).remove({ noprune: false });
    return true;
  } catch {
    return false;
  }
}

/**
 * Removes the untagged images firedrill replaced earlier and no container uses any more (one a
 * kind cluster still ran when it was replaced, say). Returns how many went.
 */
export async function removeDanglingReplaced(api: DockerApi, label: string): Promise<number> {
  const images = await api.listImages({ filters: { dangling: ['true'], label: [label] } });
  let removed = 0;
  for (const image of images) if (await removeReplaced(api, image.Id)) removed++;
  return removed;
}

/** Removes every container carrying `label=value` (a build's helper containers), even running ones. */
export async function removeLabelledContainers(api: DockerApi, label: string, value: string): Promise<number> {
  const containers = await api.listContainers({ all: true, filters: { label: [`${label}=${value}`] } });
  for (const c of containers) await api.getContainer(c.Id).remove({ force: true, v: true });
  return containers.length;
}

/** registry/name:tag -> repo and tag (a port in the registry is not a tag). */
export function splitRef(ref: string): { repo: string; tag: string } {
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  return colon > slash ? { repo: ref.slice(0, colon), tag: ref.slice(colon + 1) } : { repo: ref, tag: 'latest' };
}

/** The name containerd (and the kubelet) use for a reference: docker.io/ added to Docker Hub names. */
export function normalizeRef(ref: string): string {
  const first = ref.split('/')[0]!;
  const hasRegistry = ref.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (hasRegistry) return ref;
  return ref.includes('/') ? `docker.io/${ref}` : `docker.io/library/${ref}`;
}
