import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manifest } from '../../harness/components.js';
import { normalizeRef, splitRef } from '../../harness/images/docker.js';
import { planBuilds } from '../../harness/images/images.js';
import { inputHashes, manifestHash } from '../../harness/images/inputs.js';
import { type ImageKey, kindImages, NODE_IMPORTED } from '../../harness/images/names.js';
import { debianMirror } from '../../harness/images/rootfs.js';
import { IMAGE_SPECS, parentsOf } from '../../harness/images/specs.js';

// The image names, build plan and inputs hashes: no Docker needed.

describe('kindImages', () => {
  const images = kindImages();

  it('names every image under its upstream name, firedrill/ for its own', () => {
    expect(images.imported.sort()).toEqual(
      [
        'registry.k8s.io/kube-apiserver:v1.36.1',
        'registry.k8s.io/kube-controller-manager:v1.36.1',
        'registry.k8s.io/kube-scheduler:v1.36.1',
        'registry.k8s.io/kube-proxy:v1.36.1',
        'registry.k8s.io/etcd:3.6.9-0',
        'registry.k8s.io/coredns/coredns:v1.14.2',
        'registry.k8s.io/pause:3.10.2',
        'registry.k8s.io/pause:3.10',
        'ghcr.io/flannel-io/flannel:v0.28.9',
        'ghcr.io/flannel-io/flannel-cni-plugin:v1.9.1-flannel3',
        'firedrill/probe:v1',
      ].sort(),
    );
    expect(images.node).toBe('firedrill/kind-node:v1.36.1');
    expect(images.all).toEqual([images.node, ...kindImages().imported]);
    expect({ etcd: images.etcdTag, coredns: images.corednsTag }).toEqual({ etcd: '3.6.9-0', coredns: 'v1.14.2' });
  });

  it('follows the manifest', () => {
    const m = structuredClone(manifest);
    m.components.kubernetes!.version = 'v1.37.0';
    m.components.etcd!.version = 'v3.7.1';
    const images = kindImages(m);
    expect(images.node).toBe('firedrill/kind-node:v1.37.0');
    expect(images.byKey['kube-proxy']).toEqual(['registry.k8s.io/kube-proxy:v1.37.0']);
    expect(images.etcdTag).toBe('3.7.1-0');
  });
});

describe('planBuilds', () => {
  const all = new Set<ImageKey>(IMAGE_SPECS.map((s) => s.key));
  const without = (...keys: ImageKey[]) => new Set([...all].filter((k) => !keys.includes(k)));

  it('builds nothing when every image is up to date', () => {
    expect(planBuilds(all, false)).toEqual([]);
  });

  it('rebuilds a stale image and the node that imports it, reusing the parents that are there', () => {
    expect(planBuilds(without('flannel', 'kind-node'), false)).toEqual(['flannel', 'kind-node']);
  });

  it('rebuilds a missing parent only when a child must be built', () => {
    expect(planBuilds(without('debian-slim'), false)).toEqual([]);
    expect(planBuilds(without('debian-slim', 'probe', 'kind-node'), false)).toEqual(['debian-slim', 'probe', 'kind-node']);
  });

  it('--force rebuilds everything, parents first', () => {
    const plan = planBuilds(all, true);
    expect(new Set(plan)).toEqual(all);
    for (const spec of IMAGE_SPECS) for (const p of parentsOf(spec)) expect(plan.indexOf(p), `${p} before ${spec.key}`).toBeLessThan(plan.indexOf(spec.key));
  });

  it('the node image imports exactly the images kindImages lists as imported', () => {
    const node = IMAGE_SPECS.find((s) => s.key === 'kind-node');
    expect(node?.how === 'node' && node.imports).toEqual(NODE_IMPORTED);
  });
});

describe('inputHashes', () => {
  it('is stable, and a manifest change reaches every image but the Debian root file systems', async () => {
    const a = await inputHashes(manifest);
    expect(await inputHashes(manifest)).toEqual(a);
    const m = structuredClone(manifest);
    m.components.flannel!.version = 'v0.99.0';
    const b = await inputHashes(m);
    expect(manifestHash(m)).not.toBe(manifestHash(manifest));
    for (const spec of IMAGE_SPECS) {
      if (spec.how === 'debootstrap') expect(b[spec.key], spec.key).toBe(a[spec.key]);
      else expect(b[spec.key], spec.key).not.toBe(a[spec.key]);
    }
  });
});

describe('references', () => {
  it.each([
    ['registry.k8s.io/pause:3.10', 'registry.k8s.io/pause:3.10', 'registry.k8s.io/pause', '3.10'],
    ['firedrill/probe:v1', 'docker.io/firedrill/probe:v1', 'firedrill/probe', 'v1'],
    ['debian', 'docker.io/library/debian', 'debian', 'latest'],
    ['localhost:5000/x/y:z', 'localhost:5000/x/y:z', 'localhost:5000/x/y', 'z'],
  ])('%s', (ref, normalized, repo, tag) => {
    expect(normalizeRef(ref)).toBe(normalized);
    expect(splitRef(ref)).toEqual({ repo, tag });
  });
});

describe('debianMirror', () => {
  let etc: string;
  beforeAll(async () => {
    etc = await mkdtemp(join(tmpdir(), 'firedrill-apt-'));
  });
  afterAll(() => rm(etc, { recursive: true, force: true }));

  it('reads deb822 .sources, skipping other suites and disabled entries', async () => {
    await mkdir(join(etc, 'sources.list.d'), { recursive: true });
    await writeFile(
      join(etc, 'sources.list.d', 'debian.sources'),
      'Types: deb\nURIs: http://security.example/debian-security\nSuites: bookworm-security\nComponents: main\n\nTypes: deb\nURIs: http://off.example/debian\nSuites: bookworm\nEnabled: no\n\nTypes: deb deb-src\nURIs: http://mirror.example/debian\nSuites: bookworm bookworm-updates\nComponents: main\n',
    );
    expect(await debianMirror('bookworm', etc)).toBe('http://mirror.example/debian');
  });

  it('prefers a one-line sources.list entry', async () => {
    await writeFile(join(etc, 'sources.list'), '# comment\ndeb [arch=amd64] http://one.example/debian bookworm main\n');
    expect(await debianMirror('bookworm', etc)).toBe('http://one.example/debian');
  });

  it('says what to add when no entry names the suite', async () => {
    await expect(debianMirror('trixie', etc)).rejects.toThrow(/no Debian mirror for trixie/);
  });
});
