import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectDocker } from './docker.js';
import { LABEL_BUILD } from './names.js';
import { removeRootfs } from './rootfs.js';
import { isAlive } from '../pid.js';

/** Scratch directories of `image build` are `<tmp>/firedrill-images-<pid>-XXXXXX`. */
export const WORK_PREFIX = 'firedrill-images-';

/**
 * What killed `image build` runs left (a clean failure or Ctrl-C removes it itself): helper
 * containers labelled firedrill.image-build=<pid>-<time> whose process is gone, and their scratch
 * directories (debootstrap mounts inside unmounted first). Kind nodes carry the label with an
 * empty value (inherited from the node image) and are never touched. For `firedrill prune`.
 */
export async function pruneImageBuilds(say: (line: string) => void): Promise<void> {
  for (const name of await readdir(tmpdir()).catch(() => [])) {
    const pid = new RegExp(`^${WORK_PREFIX}(\\d+)-`).exec(name)?.[1];
    if (!pid || isAlive(Number(pid))) continue;
    say(`removing ${join(tmpdir(), name)} left by an image build`);
    await removeRootfs(join(tmpdir(), name));
  }
  const docker = await connectDocker().catch(() => undefined);
  if (!docker) return;
  const containers = await docker.api.listContainers({ all: true, filters: { label: [LABEL_BUILD] } });
  for (const c of containers) {
    const pid = /^(\d+)-/.exec(c.Labels[LABEL_BUILD] ?? '')?.[1];
    if (!pid || isAlive(Number(pid))) continue;
    say(`removing image build helper container ${c.Id.slice(0, 12)}`);
    await docker.api.getContainer(c.Id).remove({ force: true, v: true });
  }
}
