import { describe, expect, it } from 'vitest';
import { components, expand, Manifest, manifest } from '../harness/components.js';

describe('the component manifest', () => {
  it('pins the versions a kind v0.32.0 cluster with flannel runs', () => {
    const byName = Object.fromEntries(components().map((c) => [c.name, c.version]));
    expect(byName).toMatchObject({ kubernetes: 'v1.36.1', flannel: expect.stringMatching(/^v0\.28\./), 'cni-plugins': 'v1.9.1', coredns: 'v1.14.2' });
    expect(manifest.kind.nodeImage).toMatch(/^kindest\/node:v1\.36\.1@sha256:[0-9a-f]{64}$/);
  });

  it('gives every binary a version check and a Go package', () => {
    for (const c of components()) {
      for (const [binary, spec] of Object.entries(c.binaries)) {
        expect(spec.versionCheck.expect, `${c.name}/${binary}`).not.toBe('');
        expect(c.build.packages[binary], `${c.name}/${binary}`).toMatch(/\//);
      }
    }
  });

  it('rejects a component whose build does not provide every binary', () => {
    const broken = structuredClone(manifest);
    delete broken.components.etcd!.build.packages.etcd;
    const parsed = Manifest.safeParse(broken);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.message).toContain('build.packages must name exactly the binaries');
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
