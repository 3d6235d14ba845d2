import { describe, expect, it } from 'vitest';
import { components } from '../../harness/components.js';
import { goOutputName, parseRequires, stagingReplaces } from '../../harness/setup/go-build.js';

const kubernetesGoMod = `module k8s.io/kubernetes

go 1.26.0

require (
	github.com/Azure/go-ansiterm v0.0.0-20250102033503-faa5f7b0171c // indirect
	k8s.io/api v0.0.0
	k8s.io/client-go v0.0.0
)

replace (
	k8s.io/api => ./staging/src/k8s.io/api
	k8s.io/client-go => ./staging/src/k8s.io/client-go
	k8s.io/cri-streaming => ./staging/src/k8s.io/cri-streaming
)
`;

describe('go module helpers', () => {
  it('pins every staging module of k8s.io/kubernetes to v0.<minor>.<patch>', () => {
    expect(stagingReplaces(kubernetesGoMod, 'v1.36.1')).toEqual([
      'k8s.io/api => k8s.io/api v0.36.1',
      'k8s.io/client-go => k8s.io/client-go v0.36.1',
      'k8s.io/cri-streaming => k8s.io/cri-streaming v0.36.1',
    ]);
  });

  it('reads required versions, indirect ones included', () => {
    const req = parseRequires(kubernetesGoMod + '\nrequire github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/vpc v1.3.149\n');
    expect(req.get('github.com/Azure/go-ansiterm')).toBe('v0.0.0-20250102033503-faa5f7b0171c');
    expect(req.get('github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/vpc')).toBe('v1.3.149');
  });

  it('names outputs as go build -o dir/ does', () => {
    expect(goOutputName('k8s.io/kubernetes/cmd/kube-apiserver')).toBe('kube-apiserver');
    expect(goOutputName('go.etcd.io/etcd/server/v3')).toBe('server');
    expect(goOutputName('github.com/flannel-io/flannel')).toBe('flannel');
    expect(goOutputName('sigs.k8s.io/kind')).toBe('kind');
    expect(goOutputName('sigs.k8s.io/cri-tools/cmd/crictl')).toBe('crictl');
  });

  it('gives every package of a component its own output file (one go build writes them all to one directory)', () => {
    for (const c of components()) {
      const names = Object.values(c.build.packages).map(goOutputName);
      expect(new Set(names).size, c.name).toBe(names.length);
    }
  });
});
