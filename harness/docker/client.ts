import type { ContainerRuntimeClient } from 'testcontainers';
import { environmentError } from '../errors.js';

let client: Promise<ContainerRuntimeClient> | undefined;

/**
 * The Docker engine through testcontainers' client (loaded on first use: its import costs about
 * 0.4 s). Ryuk, its reaper, is an image from a registry, so it is off: everything firedrill creates
 * is labelled and removed by firedrill itself (`firedrill prune`).
 */
export function dockerClient(): Promise<ContainerRuntimeClient> {
  process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
  // Inside a container testcontainers would otherwise look for the docker host's gateway, and
  // may start a helper container from a registry image to do it; the engine is local.
  process.env.TESTCONTAINERS_HOST_OVERRIDE ??= 'localhost';
  client ??= connect().catch((e: unknown) => {
    client = undefined;
    throw e;
  });
  return client;
}

async function connect(): Promise<ContainerRuntimeClient> {
  const tc = await import('testcontainers');
  try {
    const c = await tc.getContainerRuntimeClient();
    await c.container.dockerode.ping();
    return c;
  } catch (e) {
    throw environmentError(
      `no Docker engine answers (${e instanceof Error ? e.message.split('\n')[0] : String(e)}); the kind backend and its images need one`,
      "start one: `./ci/docker-engine start` (installs Debian's docker.io when absent and starts it; ci/setup does this), or start your own",
      { cause: e },
    );
  }
}

/** Whether a Docker engine answers, for cleanup that has nothing to do without one. */
export async function dockerAnswers(): Promise<boolean> {
  return dockerClient().then(
    () => true,
    () => false,
  );
}
