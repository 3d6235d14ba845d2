import type * as k8s from '@kubernetes/client-node';

/**
 * The API clients the library and the harness use, built from a kubeconfig file.
 * @kubernetes/client-node takes about half a second to import, so it is loaded
 * only when a cluster is actually reached.
 */
export interface Kube {
  lib: typeof k8s;
  config: k8s.KubeConfig;
  core: k8s.CoreV1Api;
  apps: k8s.AppsV1Api;
  coordination: k8s.CoordinationV1Api;
  discovery: k8s.DiscoveryV1Api;
  objects: k8s.KubernetesObjectApi;
}

export async function connect(kubeconfigPath: string): Promise<Kube> {
  const lib = await import('@kubernetes/client-node');
  const config = new lib.KubeConfig();
  config.loadFromFile(kubeconfigPath);
  reuseConnections(config);
  return {
    lib,
    config,
    core: config.makeApiClient(lib.CoreV1Api),
    apps: config.makeApiClient(lib.AppsV1Api),
    coordination: config.makeApiClient(lib.CoordinationV1Api),
    discovery: config.makeApiClient(lib.DiscoveryV1Api),
    objects: lib.KubernetesObjectApi.makeApiClient(config),
  };
}

/**
 * client-node 2.0 builds a new undici Agent for every API call, so no connection is ever
 * reused and each call pays a TCP and TLS handshake (under load, up to a second). One
 * kubeconfig here means one cluster and one user: a single dispatcher serves every call.
 */
function reuseConnections(config: k8s.KubeConfig): void {
  const target = config as unknown as { createDispatcher: (cluster: unknown, options: unknown) => unknown };
  const create = target.createDispatcher.bind(config);
  let dispatcher: unknown;
  target.createDispatcher = (cluster, options) => (dispatcher ??= create(cluster, options));
}

/** Patch options for a typed client call: the Content-Type selects the patch strategy. */
export function patchAs(kube: Kube, strategy: 'merge' | 'strategic' | 'json') {
  const type = {
    merge: kube.lib.PatchStrategy.MergePatch,
    strategic: kube.lib.PatchStrategy.StrategicMergePatch,
    json: kube.lib.PatchStrategy.JsonPatch,
  }[strategy];
  return kube.lib.setHeaderOptions('Content-Type', type);
}

/** Server-side apply of each object, in order, as field manager `firedrill` (create or update alike). */
export async function serverSideApply(kube: Kube, objects: Record<string, unknown>[]): Promise<void> {
  for (const o of objects) {
    await kube.objects.patch(o as never, undefined, undefined, 'firedrill', true, kube.lib.PatchStrategy.ServerSideApply);
  }
}

/** Whether a Node or Pod reports the Ready condition True. */
export function isReady(obj: { status?: { conditions?: { type: string; status: string }[] } }): boolean {
  return obj.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** The HTTP status of a client-node ApiException, if that is what `e` is. */
export function apiStatus(e: unknown): number | undefined {
  const code = (e as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}
