import { chmod, copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { formatArgv, lastLines } from '../../src/exec.js';
import { failure } from '../errors.js';
import { type Docker, normalizeRef, saveImages, splitRef } from './docker.js';
import { LABEL_BUILD } from './names.js';

export interface NodeImageRequest {
  base: string;
  ref: string;
  kubernetesVersion: string;
  /** name in /usr/bin -> host path (kubeadm, kubelet, kubectl). */
  binaries: Record<string, string>;
  /** Images to put into the node's containerd. */
  imports: string[];
  labels: Record<string, string>;
  buildId: string;
  /** A scratch directory, bind-mounted into the build container. */
  workDir: string;
  say: (line: string) => void;
}

// Under /tmp, which kind mounts a tmpfs over: the empty mount point the commit keeps stays out of sight.
const MOUNT = '/tmp/firedrill-build';

/**
 * `kind build node-image`, offline: kind's own steps (it runs the base image with sleep, copies
 * the Kubernetes binaries into /usr/bin, writes /kind/version, imports the images into the node's
 * containerd with the CRI "pinned" label, and commits with kind's entrypoint), except that the
 * images come from the local engine instead of registries. Besides the control plane, flannel's
 * and the probe image are imported too, so a cluster needs no `kind load` (which streams every
 * image into every node, ~15 s per image): a node starts with everything its pods run.
 */
export async function buildNodeImage(docker: Docker, r: NodeImageRequest): Promise<void> {
  await mkdir(join(r.workDir, 'bin'), { recursive: true });
  for (const [name, path] of Object.entries(r.binaries)) {
    await copyFile(path, join(r.workDir, 'bin', name));
    await chmod(join(r.workDir, 'bin', name), 0o755);
  }
  await writeFile(join(r.workDir, 'version'), r.kubernetesVersion);
  r.say(`saving ${r.imports.length} images for the node's containerd`);
  await saveImages(docker.api, r.imports, join(r.workDir, 'images.tar'));

  // Like kind: not privileged; containerd only stores content (--no-unpack), it mounts nothing.
  const container = await new docker.tc.GenericContainer(r.base)
    .withEntrypoint(['sleep'])
    .withCommand(['infinity'])
    .withLabels({ [LABEL_BUILD]: r.buildId })
    .withSecurityOpt('seccomp=unconfined')
    .withBindMounts([{ source: r.workDir, target: MOUNT, mode: 'ro' }])
    .start();
  const exec = async (argv: string[]) => {
    const out = await container.exec(argv);
    if (out.exitCode !== 0) throw failure(`node image build: ${formatArgv(argv)} exited ${out.exitCode}\n${lastLines(out.output, 15)}`, 'fix the cause above and run `firedrill image build` again');
    return out.stdout;
  };
  try {
    for (const name of Object.keys(r.binaries)) {
      await exec(['cp', `${MOUNT}/bin/${name}`, `/usr/bin/${name}`]);
      await exec(['chown', 'root:root', `/usr/bin/${name}`]);
    }
    await exec(['cp', `${MOUNT}/version`, '/kind/version']);

    r.say(`importing them into the node's containerd`);
    await exec(['sh', '-c', 'nohup containerd >/tmp/containerd.log 2>&1 &']);
    await exec(['sh', '-c', 'for i in $(seq 100); do ctr version >/dev/null 2>&1 && exit 0; sleep 0.1; done; cat /tmp/containerd.log; exit 1']);
    await exec(['ctr', '--namespace=k8s.io', 'images', 'import', '--all-platforms', '--no-unpack', `${MOUNT}/images.tar`]);
    // ctr 1.6 has no `import --label`: pin each image afterwards, so the kubelet's image GC keeps them.
    for (const ref of r.imports) await exec(['ctr', '--namespace=k8s.io', 'images', 'label', normalizeRef(ref), 'io.cri-containerd.pinned=pinned']);
    const listed = new Set((await exec(['ctr', '--namespace=k8s.io', 'images', 'list', '-q'])).split('\n'));
    const missing = r.imports.filter((ref) => !listed.has(normalizeRef(ref)));
    if (missing.length) throw failure(`node image build: containerd lacks ${missing.join(', ')} after the import`, 'run `firedrill image build --force`');
    // sleep, the container's PID 1, reaps nothing: a stopped containerd stays a zombie (Z), which is gone enough.
    await exec(['sh', '-c', 'pkill -x containerd; for i in $(seq 100); do ps -C containerd -o stat= | grep -qv Z || exit 0; sleep 0.1; done; exit 1']);
    await exec(['rm', '-f', '/tmp/containerd.log']);

    const { repo, tag } = splitRef(r.ref);
    await container.commit({
      repo,
      tag,
      deleteOnExit: false,
      // The build container's label would be inherited by every kind node: cleared.
      changes: ['ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]', 'CMD []', `LABEL ${LABEL_BUILD}=`, ...Object.entries(r.labels).map(([k, v]) => `LABEL ${k}=${v}`)],
    });
  } finally {
    await container.stop({ remove: true, removeVolumes: true });
  }
}
