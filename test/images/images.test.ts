import { access, constants, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/exec.js';
import { manifest } from '../../harness/components.js';
import { goModuleDir } from '../../harness/images/binaries.js';
import { normalizeRef } from '../../harness/images/docker.js';
import { ensureKindImages, type KindImageSet } from '../../harness/images/images.js';
import { manifestHash } from '../../harness/images/inputs.js';
import { LABEL_BUILD, LABEL_IMAGE, LABEL_INPUTS, LABEL_MANIFEST, NODE_IMPORTED } from '../../harness/images/names.js';
import { pruneImageBuilds } from '../../harness/images/prune.js';
import { defaultCacheRoot, requireBinary } from '../../harness/setup/cache.js';
import { components } from '../../harness/components.js';
import { kindUnavailable } from '../support/kind.js';
import { cliPath } from '../support/lab.js';

// The kind images, built (or reused) for real, and checked by running them. No kind cluster is created.
const unavailable = await kindUnavailable();
const TEST_LABEL = `${LABEL_BUILD}=test-${process.pid}`;

/** `docker run --rm` of a throwaway, labelled container; returns its result without throwing. */
const docker = (args: string[]) => run(['docker', ...args], { check: false, timeoutMs: 120_000 });
const dockerRun = (args: string[]) => docker(['run', '--rm', '--label', TEST_LABEL, ...args]);

interface ImageConfig {
  Id: string;
  Config: { Entrypoint: string[] | null; Cmd: string[] | null; Env: string[]; StopSignal?: string; Labels: Record<string, string> };
}
async function inspect(ref: string): Promise<ImageConfig> {
  const r = await run(['docker', 'image', 'inspect', ref]);
  return (JSON.parse(r.stdout) as ImageConfig[])[0]!;
}

interface PodContainer {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
}

describe.skipIf(unavailable)(`the kind images (${unavailable ?? 'Docker, root and components present'})`, () => {
  let first: KindImageSet;
  let second: KindImageSet;
  let idsBefore: string[];
  let scratch: string;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'firedrill-images-test-'));
    first = await ensureKindImages({ say: (l) => process.stderr.write(`images: ${l}\n`) });
    idsBefore = await Promise.all(first.all.map(async (r) => (await inspect(r)).Id));
    second = await ensureKindImages({ say: () => undefined });
  }, 1_800_000);

  afterAll(async () => {
    const left = (await docker(['ps', '-aq', '--filter', `label=${TEST_LABEL}`])).stdout.split('\n').filter(Boolean);
    if (left.length) await docker(['rm', '-f', '-v', ...left]);
    await rm(scratch, { recursive: true, force: true });
  });

  it('a second call reuses every image and changes none', async () => {
    expect(second.built).toEqual([]);
    expect(second.reused.sort()).toEqual([...NODE_IMPORTED, 'kind-node'].sort());
    expect(await Promise.all(first.all.map(async (r) => (await inspect(r)).Id))).toEqual(idsBefore);
  });

  it('every image carries the manifest hash and the hash of its own inputs', async () => {
    const expected = manifestHash(manifest);
    for (const key of [...NODE_IMPORTED, 'kind-node'] as const) {
      for (const ref of first.byKey[key]) {
        const labels = (await inspect(ref)).Config.Labels;
        expect({ ref, image: labels[LABEL_IMAGE], manifest: labels[LABEL_MANIFEST], inputs: labels[LABEL_INPUTS] }).toEqual({ ref, image: key, manifest: expected, inputs: first.inputs[key] });
      }
    }
  });

  it("the node image: kind's entrypoint, the Kubernetes binaries, and every image pinned in its containerd", async () => {
    const config = (await inspect(first.node)).Config;
    expect(config.Entrypoint).toEqual(['/usr/local/bin/entrypoint', '/sbin/init']);
    expect(config.Cmd ?? []).toEqual([]);
    expect(config.Env).toContain('container=docker');
    expect(config.StopSignal).toBe('SIGRTMIN+3');
    expect(config.Labels[LABEL_BUILD]).toBe('');

    const script = [
      'cat /kind/version; echo',
      'kubeadm version -o short',
      'kubelet --version',
      'kubectl version --client | head -1',
      'crictl --version',
      'ls /opt/cni/bin | tr "\\n" " "; echo',
      '(containerd >/dev/null 2>&1 &)',
      'for i in $(seq 100); do ctr version >/dev/null 2>&1 && break; sleep 0.1; done',
      'ctr --namespace=k8s.io images list',
    ].join('\n');
    const r = await dockerRun(['--entrypoint', 'sh', first.node, '-c', script]);
    expect(r.exitCode, r.stderr).toBe(0);
    const [version, kubeadm, kubelet, kubectl, crictl, cni, , ...images] = r.stdout.split('\n');
    const kube = manifest.components.kubernetes!.version;
    expect([version, kubeadm, kubelet, kubectl]).toEqual([kube, kube, `Kubernetes ${kube}`, `Client Version: ${kube}`]);
    expect(crictl).toBe(`crictl version ${manifest.components.crictl!.version}`);
    expect(cni!.trim().split(' ').sort()).toEqual(['bridge', 'host-local', 'loopback', 'portmap', 'ptp']);
    const pinned = images.filter((l) => l.includes('io.cri-containerd.pinned=pinned')).map((l) => l.split(/\s+/)[0]);
    expect(pinned.sort()).toEqual(first.imported.map(normalizeRef).sort());
  });

  it('kubeadm asks only for images built here, or for etcd and CoreDNS, whose tags the kind backend sets', async () => {
    const kubernetes = components().find((c) => c.name === 'kubernetes')!;
    const kubeadm = await requireBinary(defaultCacheRoot(), kubernetes, 'kubeadm');
    const listed = (await run([kubeadm, 'config', 'images', 'list', '--kubernetes-version', kubernetes.version])).stdout.trim().split('\n');
    const foreign = listed.filter((i) => !first.imported.includes(i));
    expect(foreign.every((i) => /^registry\.k8s\.io\/(etcd|coredns\/coredns):/.test(i)), foreign.join(', ')).toBe(true);
    expect(first.imported).toContain(`registry.k8s.io/etcd:${first.etcdTag}`);
    expect(first.imported).toContain(`registry.k8s.io/coredns/coredns:${first.corednsTag}`);
  });

  it("runs kube-flannel.yml's init containers as upstream's manifest writes them, and flanneld", async () => {
    const { loadAllYaml } = await import('@kubernetes/client-node');
    const flannel = manifest.components.flannel!;
    const text = await readFile(join(await goModuleDir(flannel.build.module, flannel.version), 'Documentation', 'kube-flannel.yml'), 'utf8');
    const docs = loadAllYaml(text) as { kind: string; data?: Record<string, string>; spec?: { template: { spec: { initContainers: PodContainer[]; containers: PodContainer[] } } } }[];
    const ds = docs.find((d) => d.kind === 'DaemonSet')!.spec!.template.spec;
    const config = docs.find((d) => d.kind === 'ConfigMap')!.data!;
    for (const c of [...ds.initContainers, ...ds.containers]) expect(first.imported, c.name).toContain(c.image);

    const cniBin = join(scratch, 'opt-cni-bin');
    const netD = join(scratch, 'net.d');
    const cfg = join(scratch, 'kube-flannel');
    for (const d of [cniBin, netD, cfg]) await mkdir(d, { recursive: true });
    for (const [file, body] of Object.entries(config)) await writeFile(join(cfg, file), body);
    const mounts = ['-v', `${cniBin}:/opt/cni/bin`, '-v', `${netD}:/etc/cni/net.d`, '-v', `${cfg}:/etc/kube-flannel`];
    for (const c of ds.initContainers) {
      const r = await dockerRun([...mounts, '--entrypoint', c.command![0]!, c.image, ...c.command!.slice(1), ...(c.args ?? [])]);
      expect(r.exitCode, `${c.name}: ${r.stderr}`).toBe(0);
    }
    await access(join(cniBin, 'flannel'), constants.X_OK);
    expect(JSON.parse(await readFile(join(netD, '10-flannel.conflist'), 'utf8'))).toEqual(JSON.parse(config['cni-conf.json']!));

    const daemon = ds.containers.find((c) => c.name === 'kube-flannel')!;
    const r = await dockerRun(['--entrypoint', daemon.command![0]!, daemon.image, '--version']);
    expect(r.stdout.trim() || r.stderr.trim()).toBe(flannel.version);
  });

  it.each(['kube-proxy', 'flannel'] as const)('%s writes rules with the backend the node already uses', async (key) => {
    const image = first.byKey[key][0]!;
    const mode = async (setup: string) => {
      const r = await dockerRun(['--cap-add', 'NET_ADMIN', '--entrypoint', 'sh', image, '-c', `${setup}iptables -V; ip6tables-save >/dev/null; readlink /usr/sbin/iptables-restore`]);
      expect(r.exitCode, r.stderr).toBe(0);
      return r.stdout.trim().split('\n');
    };
    expect(await mode('')).toEqual(['iptables v1.8.9 (nf_tables)', 'xtables-nft-multi']);
    expect(await mode('iptables-legacy -N A; iptables-legacy -A A -j RETURN; ')).toEqual(['iptables v1.8.9 (legacy)', 'xtables-legacy-multi']);
    // The kubelet's hint chain outweighs rule counts.
    expect(await mode('iptables-legacy -N A; iptables-legacy -A A -j RETURN; iptables-nft -t mangle -N KUBE-IPTABLES-HINT; ')).toEqual(['iptables v1.8.9 (nf_tables)', 'xtables-nft-multi']);
    expect((await dockerRun(['--cap-add', 'NET_ADMIN', '--entrypoint', 'sh', image, '-c', 'conntrack --version && nft --version && ipset --version'])).exitCode).toBe(0);
  });

  it('the control plane, etcd, CoreDNS and pause images run their binaries at the pinned versions', async () => {
    const v = (c: string) => manifest.components[c]!.version;
    const cases: [string, string[], string][] = [
      [first.byKey['kube-apiserver'][0]!, ['--entrypoint', 'kube-apiserver'], `Kubernetes ${v('kubernetes')}`],
      [first.byKey['kube-controller-manager'][0]!, ['--entrypoint', 'kube-controller-manager'], `Kubernetes ${v('kubernetes')}`],
      [first.byKey['kube-scheduler'][0]!, ['--entrypoint', 'kube-scheduler'], `Kubernetes ${v('kubernetes')}`],
      [first.byKey['kube-proxy'][0]!, ['--entrypoint', '/usr/local/bin/kube-proxy'], `Kubernetes ${v('kubernetes')}`],
      [first.byKey.etcd[0]!, ['--entrypoint', 'etcd'], `etcd Version: ${v('etcd').slice(1)}`],
      [first.byKey.coredns[0]!, [], `CoreDNS-${v('coredns').slice(1)}`],
    ];
    for (const [image, entry, expected] of cases) {
      const r = await dockerRun([...entry, image, expected.startsWith('CoreDNS') ? '-version' : '--version']);
      expect(r.stdout, image).toContain(expected);
    }
    for (const pause of first.byKey.pause) expect((await dockerRun([pause, '-v'])).stdout).toContain('pause.c');
  });

  it("the probe image has fping, busybox's nslookup, dig, ip and ping, waits by default, and stops at once on SIGTERM", async () => {
    const tools = await dockerRun(['--entrypoint', 'sh', first.probe, '-c', 'fping -v && busybox --list | grep -qx nslookup && dig -v && ip -V && ping -c 1 -W 1 127.0.0.1']);
    expect(tools.exitCode, tools.stderr).toBe(0);
    const id = (await run(['docker', 'run', '-d', '--label', TEST_LABEL, first.probe])).stdout.trim();
    try {
      await new Promise((r) => setTimeout(r, 1000));
      expect((await docker(['inspect', id, '--format', '{{.State.Running}}'])).stdout.trim()).toBe('true');
      await docker(['stop', '-t', '30', id]);
      // Exit 0 is the trap's: a signal-ignoring PID 1 would be killed after the timeout (137).
      expect((await docker(['inspect', id, '--format', '{{.State.ExitCode}}'])).stdout.trim()).toBe('0');
    } finally {
      await docker(['rm', '-f', id]);
    }
  });

  it('prune removes what a killed build left, and never a kind node', async () => {
    const dead = (await run(['sh', '-c', 'echo $$'])).stdout.trim();
    const leftDir = join(tmpdir(), `firedrill-images-${dead}-test`);
    await mkdir(join(leftDir, 'debian-node'), { recursive: true });
    const start = (label: string) => run(['docker', 'run', '-d', '--label', TEST_LABEL, '--label', label, '--entrypoint', 'sleep', first.probe, 'infinity']).then((r) => r.stdout.trim());
    const helper = await start(`${LABEL_BUILD}=${dead}-test`);
    const node = await start(`${LABEL_BUILD}=`);
    try {
      await pruneImageBuilds(() => undefined);
      const exists = async (id: string) => (await docker(['inspect', id])).exitCode === 0;
      expect({ helper: await exists(helper), node: await exists(node) }).toEqual({ helper: false, node: true });
      await expect(access(leftDir)).rejects.toThrow();
    } finally {
      await docker(['rm', '-f', helper, node]);
    }
  });

  it("--pull takes kind's own node image by the manifest's digest, or says plainly why it cannot", async () => {
    const r = await run(['node', cliPath, 'image', 'build', '--pull'], { check: false, timeoutMs: 600_000 });
    if (r.exitCode === 0) {
      // A registry answered: the image pulled is the one the digest names.
      const digests = (JSON.parse((await run(['docker', 'image', 'inspect', manifest.kind.nodeImage])).stdout) as { RepoDigests: string[] }[])[0]!.RepoDigests;
      expect(digests).toContain(`kindest/node@${manifest.kind.nodeImage.split('@')[1]}`);
    } else {
      expect(r.exitCode, r.stderr).toBe(3);
      expect(r.stderr).toContain(`cannot pull ${manifest.kind.nodeImage}`);
      expect(r.stderr).toContain('leave out --pull');
    }
  });
});
