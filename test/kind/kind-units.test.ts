import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { adoptKindCluster, kindClusterOfContext } from '../../harness/backends/kind/adopt.js';
import { clusterConfig } from '../../harness/backends/kind/cluster-config.js';
import { hasCapability } from '../../harness/backends/kind/host.js';
import { hostNetwork } from '../../harness/backends/kind/host-network.js';
import { kubeFlannelManifest } from '../../harness/backends/kind/manifests.js';
import { overlaps } from '../../src/checks/netfilter.js';
import { components, manifest } from '../../harness/components.js';
import { listLabDirs } from '../../harness/backends/lab/state.js';

const base = { clusterName: 'firedrill-t', nodes: 3, etcdTag: '3.6.9-0', corednsTag: 'v1.14.2' };

describe('kind cluster config', () => {
  it('has no default CNI, flannel\'s pod subnet, one control plane and nodes-1 workers', () => {
    const c = clusterConfig({ ...base, host: { cgroupV1: false, lacksSysResource: false } });
    expect(c.networking).toEqual({ disableDefaultCNI: true, podSubnet: '10.244.0.0/16', serviceSubnet: '10.96.0.0/16' });
    expect(c.nodes).toEqual([{ role: 'control-plane' }, { role: 'worker' }, { role: 'worker' }]);
    expect(c.name).toBe('firedrill-t');
  });

  it('switches the host patches on only where the host needs them', () => {
    const plain = clusterConfig({ ...base, host: { cgroupV1: false, lacksSysResource: false } });
    expect(JSON.stringify(plain)).not.toMatch(/failCgroupV1|restrict_oom_score_adj/);
    expect(plain.containerdConfigPatches).toBeUndefined();
    const v1 = clusterConfig({ ...base, host: { cgroupV1: true, lacksSysResource: false } });
    expect(v1.kubeadmConfigPatches).toContain('kind: KubeletConfiguration\nfailCgroupV1: false\n');
    expect(v1.containerdConfigPatches).toBeUndefined();
    const caps = clusterConfig({ ...base, host: { cgroupV1: false, lacksSysResource: true } });
    expect(caps.containerdConfigPatches).toEqual(['[plugins."io.containerd.grpc.v1.cri"]\n  restrict_oom_score_adj = true\n']);
  });

  it('pins the etcd and CoreDNS tags it was given', () => {
    const c = clusterConfig({ ...base, host: { cgroupV1: false, lacksSysResource: false } });
    expect((c.kubeadmConfigPatches as string[])[0]).toMatch(/imageTag: "3\.6\.9-0"[\s\S]*dns:\n  imageTag: "v1\.14\.2"/);
  });

  it("keeps kubeadm's image tags with kind's own node image (the pull path), which carries them", () => {
    const c = clusterConfig({ clusterName: 'firedrill-t', nodes: 2, host: { cgroupV1: false, lacksSysResource: false } });
    expect(c.kubeadmConfigPatches).toBeUndefined();
  });
});

describe('host facts', () => {
  it('reads CAP_SYS_RESOURCE (bit 24) from the bounding set', () => {
    expect(hasCapability('CapBnd:\t000001fffeffffff\n', 24n)).toBe(false);
    expect(hasCapability('CapBnd:\t000001ffffffffff\n', 24n)).toBe(true);
    expect(() => hasCapability('Name: x\n', 24n)).toThrow(/CapBnd/);
  });
});

describe('the kind network', () => {
  it('tells overlapping prefixes apart', () => {
    expect(overlaps('172.30.0.0/24', '172.30.0.0/16')).toBe(true);
    expect(overlaps('172.30.1.0/24', '172.30.0.0/24')).toBe(false);
    expect(overlaps('0.0.0.0/0', '10.0.0.0/8')).toBe(true);
    expect(overlaps('172.18.0.0/16', '172.30.0.0/24')).toBe(false);
  });

  it('refuses host commands that are not labelled, scoped iptables rules', async () => {
    const net = hostNetwork('t');
    await expect(net.exec(['ip', 'link', 'del', 'docker0'])).rejects.toThrow(/refused to run on the host/);
    await expect(net.exec(['iptables', '-I', 'FORWARD', '-j', 'DROP'])).rejects.toThrow(/refused/);
    await expect(net.exec(['iptables', '-I', 'FORWARD', '-s', '172.30.0.2', '-m', 'comment', '--comment', 'firedrill:other', '-j', 'DROP'])).rejects.toThrow(/refused/);
  });
});

describe('the vendored kube-flannel.yml', () => {
  it('is the upstream file of the pinned flannel version, unchanged', async () => {
    const { text, source } = await kubeFlannelManifest();
    expect(source.flannelVersion).toBe(manifest.components.flannel!.version);
    expect(createHash('sha256').update(text).digest('hex')).toBe(source.sha256);
    expect(text).toContain(`ghcr.io/flannel-io/flannel:${manifest.components.flannel!.version}`);
    expect(text).toContain(`ghcr.io/flannel-io/flannel-cni-plugin:${manifest.components['flannel-cni-plugin']!.version}`);
    expect(await readFile(new URL('../../harness/backends/kind/manifests/kube-flannel.yml', import.meta.url), 'utf8')).toBe(text);
  });
});

describe('the manifest', () => {
  it('pins kind once: the kind section and the kind component agree', () => {
    expect(components().find((c) => c.name === 'kind')?.version).toBe(manifest.kind.version);
    expect(manifest.kind.nodeImage).toMatch(new RegExp(`^kindest/node:${manifest.components.kubernetes!.version}@sha256:[0-9a-f]{64}$`));
  });
});

describe('state beside the labs', () => {
  it('is never taken for a lab (prune would remove it): kind clusters and the Docker engine use names no lab can have', async () => {
    const root = await mkdtemp(join(tmpdir(), 'firedrill-state-'));
    const saved = process.env.FIREDRILL_STATE;
    process.env.FIREDRILL_STATE = root;
    try {
      const engine = /^state=\/run\/firedrill\/(\S+)$/m.exec(await readFile(new URL('../../ci/docker-engine', import.meta.url), 'utf8'))?.[1];
      expect(engine, 'ci/docker-engine keeps its state under /run/firedrill').toBeDefined();
      for (const d of ['fd', 'kind-clusters', 'kind-adopted', engine!]) await mkdir(join(root, d));
      expect(await listLabDirs()).toEqual(['fd']);
    } finally {
      if (saved === undefined) delete process.env.FIREDRILL_STATE;
      else process.env.FIREDRILL_STATE = saved;
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe('a kind cluster firedrill did not create (--context)', () => {
  const adopt = (o: Partial<Parameters<typeof adoptKindCluster>[0]>) => adoptKindCluster({ context: 'kind-dev', cacheRoot: '/nonexistent', say: () => undefined, ...o });

  it('is refused unless --confirm-context repeats the context, before anything is read', async () => {
    await expect(adopt({})).rejects.toMatchObject({ exitCode: 2, message: expect.stringContaining('did not create'), hint: expect.stringContaining('--confirm-context kind-dev') });
    await expect(adopt({ confirm: 'kind-prod' })).rejects.toMatchObject({ hint: expect.stringContaining('"kind-prod"') });
  });

  it("is a kind cluster's context (kind-<cluster>) in the kubeconfig given", async () => {
    expect(kindClusterOfContext('kind-firedrill-kt')).toBe('firedrill-kt');
    await expect(adopt({ context: 'prod', confirm: 'prod' })).rejects.toMatchObject({ exitCode: 2, message: expect.stringContaining('not a kind cluster') });
    const dir = await mkdtemp(join(tmpdir(), 'firedrill-kubeconfig-'));
    try {
      const file = join(dir, 'config');
      await writeFile(file, 'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]\nusers: [{name: u, user: {}}]\ncontexts: [{name: kind-other, context: {cluster: c, user: u}}]\ncurrent-context: kind-other\n');
      await expect(adopt({ confirm: 'kind-dev', kubeconfig: file })).rejects.toMatchObject({ exitCode: 2, message: `no context "kind-dev" in ${file}`, hint: 'contexts there: kind-other' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
