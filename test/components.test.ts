import { describe, expect, it } from 'vitest';
import { components, expand, Manifest, manifest } from '../harness/components.js';

describe('the component manifest', () => {
  it('pins the versions a kind v0.32.0 cluster with flannel runs', () => {
    const byName = Object.fromEntries(components().map((c) => [c.name, c.version]));
    expect(byName).toMatchObject({
      kubernetes: 'v1.36.1',
      flannel: expect.stringMatching(/^v0\.28\./),
      'cni-plugins': 'v1.9.1',
      coredns: 'v1.14.2',
      kind: 'v0.32.0',
      // kind v0.32.0's images/base/Dockerfile: CRICTL_VERSION="v1.36.0"
      crictl: 'v1.36.0',
    });
    expect(manifest.kind.nodeImage).toMatch(/^kindest\/node:v1\.36\.1@sha256:[0-9a-f]{64}$/);
  });

  it('builds the node binaries kind needs in the one Kubernetes build, so they share its build cache', () => {
    const kubernetes = components().find((c) => c.name === 'kubernetes')!;
    expect(Object.keys(kubernetes.binaries)).toEqual(expect.arrayContaining(['kubelet', 'kubeadm', 'kubectl']));
    expect(kubernetes.build.packages).toMatchObject({ kubelet: 'k8s.io/kubernetes/cmd/kubelet', kubeadm: 'k8s.io/kubernetes/cmd/kubeadm' });
  });

  it('gives every binary a version check on the pinned version and a Go package', () => {
    for (const c of components()) {
      for (const [binary, spec] of Object.entries(c.binaries)) {
        expect(expand(spec.versionCheck.expect, c.version), `${c.name}/${binary}`).toContain(c.version.replace(/^v/, ''));
        expect(c.build.packages[binary], `${c.name}/${binary}`).toMatch(/\//);
      }
    }
  });

  it('accepts what the pinned binaries print and rejects other builds', () => {
    // Output of the binaries `firedrill setup` built, and of builds that must not pass.
    const check = (name: string, binary: string) => {
      const c = components().find((x) => x.name === name)!;
      return expand(c.binaries[binary]!.versionCheck.expect, c.version);
    };
    expect('kind v0.32.0 go1.26.8 linux/amd64').toContain(check('kind', 'kind'));
    expect('kind v0.32.0-alpha.12+0123456789abcd go1.26.8 linux/amd64').not.toContain(check('kind', 'kind'));
    expect('crictl version v1.36.0').toContain(check('crictl', 'crictl'));
    expect('crictl version unknown').not.toContain(check('crictl', 'crictl'));
    expect('Kubernetes v1.36.1').toContain(check('kubernetes', 'kubelet'));
    expect('Kubernetes v0.0.0-master+$Format:%H$').not.toContain(check('kubernetes', 'kubelet'));
    expect('v1.36.1\n').toContain(check('kubernetes', 'kubeadm'));
    expect('v0.0.0-master+$Format:%H$\n').not.toContain(check('kubernetes', 'kubeadm'));
  });

  it('rejects a component whose build does not provide every binary', () => {
    const broken = structuredClone(manifest);
    delete broken.components.etcd!.build.packages.etcd;
    const parsed = Manifest.safeParse(broken);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.message).toContain('build.packages must name exactly the binaries');
  });

  it('rejects release artifacts that provide only some of a component’s binaries', () => {
    const partial = structuredClone(manifest);
    partial.components.kubernetes!.download = [
      { url: 'https://dl.k8s.io/release/v1.36.1/bin/linux/amd64/kubectl', sha256: '0'.repeat(64), format: 'raw', files: { kubectl: '' } },
    ];
    const parsed = Manifest.safeParse(partial);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.message).toContain('download artifacts must provide exactly the binaries');
  });

  it('rejects a kind component that is not the kind version the manifest pins', () => {
    const skewed = structuredClone(manifest);
    skewed.components.kind!.version = 'v0.31.0';
    const parsed = Manifest.safeParse(skewed);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.message).toContain('components.kind must build the kind version the manifest pins (v0.32.0)');
  });

  it('rejects a checksum that is not a sha256', () => {
    const broken = structuredClone(manifest);
    broken.components.etcd!.download = [{ url: 'https://example.invalid/x', sha256: 'abc', format: 'raw', files: { etcd: '' } }];
    expect(Manifest.safeParse(broken).success).toBe(false);
  });
});

describe('expand', () => {
  it('fills version placeholders', () => {
    expect(expand('{version} {semver} {major}.{minor}', 'v1.36.1')).toBe('v1.36.1 1.36.1 1.36');
  });
});
