import { get } from 'node:http';
import type { V1Container, V1Pod, V1PodCondition, V1PodList } from '@kubernetes/client-node';
import { apiStatus } from '../../../../src/kube/client.js';
import { apiPath, type LabApi } from '../api.js';
import { networkNotReady } from './cni.js';
import { type NodeIdentity, postStatus, registerNode, renewLease } from './node-status.js';
import { createSandbox, ensureContainers, listSandboxes, removeSandbox, type RuntimeConfig, type SandboxRecord } from './sandboxes.js';

/**
 * The lab kubelet: stands in for kubelet and the container runtime on one node. It keeps
 * the Node registered and its Lease renewed, realises the pods bound to the node (see
 * sandboxes.ts), runs HTTP readiness probes and reports pod status. It does not do
 * images, volumes other than configMap, liveness probes, resource limits, exec/logs/port
 * forwarding, or static pods.
 */
export class LabKubelet {
  private readonly inFlight = new Set<string>();
  private readonly readiness = new Map<string, { ready: boolean; lastProbe: number }>();
  private readonly lastStatus = new Map<string, string>();
  private readonly failures = new Map<string, { count: number; until: number }>();
  private pods = new Map<string, V1Pod>();
  private syncing = false;
  private networkWait: string | undefined;
  private syncAgain = false;
  private timers: NodeJS.Timeout[] = [];
  private soonTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly api: LabApi,
    private readonly node: NodeIdentity,
    private readonly runtime: RuntimeConfig,
    private readonly log: (line: string) => void,
  ) {}

  async start(): Promise<void> {
    await retry(() => registerNode(this.api, this.node), 'register node', this.log);
    await retry(() => renewLease(this.api, this.node.name), 'create lease', this.log);
    this.log(`node ${this.node.name} registered`);
    this.every(10_000, () => renewLease(this.api, this.node.name));
    this.every(60_000, () => postStatus(this.api, this.node));
    this.every(1_000, () => this.sync());
    await this.watchPods();
    await this.sync();
  }

  stop(): void {
    for (const t of this.timers) clearInterval(t);
    clearTimeout(this.soonTimer);
  }

  /**
   * Another sync shortly, while something is about to change that no watch reports (flanneld
   * writing subnet.env, a container turning ready): pods start within a tenth of a second of
   * it, instead of at the next one-second sync.
   */
  private syncSoon(): void {
    this.soonTimer ??= setTimeout(() => {
      this.soonTimer = undefined;
      void this.sync();
    }, 100);
  }

  private every(ms: number, task: () => Promise<void>): void {
    this.timers.push(setInterval(() => void task().catch((e: Error) => this.log(`error: ${e.message}`)), ms));
  }

  /** List, then watch from that resourceVersion; on any end of the watch, list and watch again. */
  private async watchPods(): Promise<void> {
    const fieldSelector = `spec.nodeName=${this.node.name}`;
    const again = (delayMs: number) => setTimeout(() => void this.watchPods().catch((e: Error) => {
      this.log(`pod list failed, retrying: ${e.message}`);
      again(1000);
    }), delayMs);
    const list = await this.api.get<V1PodList>(`/api/v1/pods?fieldSelector=${encodeURIComponent(fieldSelector)}`);
    this.pods = new Map(list.items.map((p) => [p.metadata!.uid!, p]));
    void this.sync();
    this.api.watch(
      '/api/v1/pods',
      // As client-go's reflector: the server ends a watch after 5-10 minutes, and it is renewed.
      { fieldSelector, resourceVersion: list.metadata?.resourceVersion ?? '', allowWatchBookmarks: 'true', timeoutSeconds: String(300 + Math.floor(Math.random() * 300)) },
      (phase, object) => {
        const pod = object as V1Pod;
        const uid = pod.metadata?.uid;
        if (!uid) return;
        if (phase === 'ADDED' || phase === 'MODIFIED') this.pods.set(uid, pod);
        else if (phase === 'DELETED') this.pods.delete(uid);
        else return;
        void this.sync();
      },
      (err) => {
        if (err) this.log(`pod watch ended: ${err.message}`);
        again(err ? 1000 : 0);
      },
    );
  }

  /** One pass over every pod bound here and every sandbox on disk. Never runs twice at once. */
  private async sync(): Promise<void> {
    if (this.syncing) {
      this.syncAgain = true;
      return;
    }
    this.syncing = true;
    try {
      do {
        this.syncAgain = false;
        const sandboxes = new Map((await listSandboxes(this.runtime)).map((s) => [s.uid, s]));
        const work: Promise<void>[] = [];
        for (const [uid, pod] of this.pods) work.push(this.once(uid, () => this.syncPod(pod, sandboxes.get(uid))));
        for (const [uid, sandbox] of sandboxes) {
          if (!this.pods.has(uid)) work.push(this.once(uid, () => this.teardown(sandbox)));
        }
        await Promise.all(work);
      } while (this.syncAgain);
    } finally {
      this.syncing = false;
    }
  }

  /** Runs per-pod work unless that pod already has work in flight (a slow CNI ADD spans several syncs). */
  private async once(uid: string, task: () => Promise<void>): Promise<void> {
    if (this.inFlight.has(uid)) return;
    const failed = this.failures.get(uid);
    if (failed && Date.now() < failed.until) return;
    this.inFlight.add(uid);
    try {
      await task();
      this.failures.delete(uid);
    } catch (e) {
      const count = (failed?.count ?? 0) + 1;
      // kubelet backs off a failing sandbox too; 0.5 s doubling up to 10 s keeps recovery prompt.
      this.failures.set(uid, { count, until: Date.now() + Math.min(500 * 2 ** (count - 1), 10_000) });
      this.log(`error: pod ${uid}: ${(e as Error).message}`);
    } finally {
      this.inFlight.delete(uid);
    }
  }

  private async syncPod(pod: V1Pod, existing: SandboxRecord | undefined): Promise<void> {
    const id = `${pod.metadata!.namespace}/${pod.metadata!.name}`;
    if (pod.metadata?.deletionTimestamp) {
      if (existing) await this.teardown(existing);
      try {
        // With a body, the API server reads the options from it alone, not from the query.
        await this.api.delete(apiPath.pod(pod.metadata.namespace!, pod.metadata.name!), { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0, preconditions: { uid: pod.metadata.uid } });
      } catch (e) {
        if (apiStatus(e) !== 404 && apiStatus(e) !== 409) throw e;
      }
      return;
    }
    if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return;
    let sandbox = existing;
    if (!sandbox) {
      const notReady = await networkNotReady(this.runtime.cni);
      if (notReady) {
        if (this.networkWait !== notReady) this.log(`network not ready, pods wait: ${notReady}`);
        this.networkWait = notReady;
        this.syncSoon();
        return;
      }
      this.networkWait = undefined;
      sandbox = await createSandbox(this.runtime, pod);
      this.log(`pod ${id}: sandbox ${sandbox.netns} ip ${sandbox.ip}`);
    }
    if (await ensureContainers(this.runtime, pod, sandbox)) this.log(`pod ${id}: containers started`);
    await this.probeReadiness(pod, sandbox);
    await this.reportStatus(pod, sandbox);
  }

  private async teardown(sandbox: SandboxRecord): Promise<void> {
    await removeSandbox(this.runtime, sandbox);
    for (const key of this.readiness.keys()) if (key.startsWith(`${sandbox.uid}/`)) this.readiness.delete(key);
    this.lastStatus.delete(sandbox.uid);
    this.log(`pod ${sandbox.namespace}/${sandbox.name}: sandbox ${sandbox.netns} removed`);
  }

  /**
   * HTTP readiness probes. A container not ready is probed every second, and every 200 ms in
   * its sandbox's first 30 s (a starting pod is what `lab up` waits for); a ready one at its
   * periodSeconds (default 10), as kubelet does.
   */
  private async probeReadiness(pod: V1Pod, sandbox: SandboxRecord): Promise<void> {
    for (const c of pod.spec?.containers ?? []) {
      const key = `${sandbox.uid}/${c.name}`;
      const probe = c.readinessProbe?.httpGet;
      const state = this.readiness.get(key) ?? { ready: false, lastProbe: 0 };
      if (!probe) {
        this.readiness.set(key, { ready: true, lastProbe: Date.now() });
        continue;
      }
      const starting = Date.now() - Date.parse(sandbox.createdAt) < 30_000;
      const period = state.ready ? (c.readinessProbe?.periodSeconds ?? 10) * 1000 : starting ? 200 : 1000;
      if (Date.now() - state.lastProbe < period) {
        if (!state.ready && starting) this.syncSoon();
        continue;
      }
      const ok = await httpOk(`http://${sandbox.ip}:${resolvePort(c, probe.port)}${probe.path ?? '/'}`, (c.readinessProbe?.timeoutSeconds ?? 1) * 1000);
      this.readiness.set(key, { ready: ok, lastProbe: Date.now() });
      if (!ok && starting) this.syncSoon();
    }
  }

  private async reportStatus(pod: V1Pod, sandbox: SandboxRecord): Promise<void> {
    const containers = pod.spec?.containers ?? [];
    const ready = containers.every((c) => this.readiness.get(`${sandbox.uid}/${c.name}`)?.ready);
    const since = sandbox.createdAt;
    const condition = (type: string, status: boolean): V1PodCondition => ({ type, status: status ? 'True' : 'False', lastTransitionTime: since as unknown as Date });
    const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
    const status = {
      phase: 'Running',
      hostIP: this.node.ip,
      hostIPs: [{ ip: this.node.ip }],
      podIP: sandbox.ip,
      podIPs: [{ ip: sandbox.ip }],
      startTime: since,
      conditions: [
        condition('PodReadyToStartContainers', true),
        condition('Initialized', true),
        condition('ContainersReady', ready),
        condition('Ready', ready),
        ...(scheduled ? [{ ...scheduled, lastTransitionTime: scheduled.lastTransitionTime?.toISOString?.() ?? scheduled.lastTransitionTime }] : []),
      ],
      containerStatuses: containers.map((c) => {
        const s = sandbox.containers[c.name];
        return {
          name: c.name,
          image: c.image,
          imageID: '',
          containerID: `firedrill://${sandbox.containerId.slice(0, 12)}-${c.name}`,
          ready: this.readiness.get(`${sandbox.uid}/${c.name}`)?.ready ?? false,
          started: true,
          restartCount: s?.restartCount ?? 0,
          state: { running: { startedAt: s?.startedAt ?? since } },
        };
      }),
    };
    const body = JSON.stringify(status);
    if (this.lastStatus.get(sandbox.uid) === body) return;
    await this.api.patch(apiPath.podStatus(pod.metadata!.namespace!, pod.metadata!.name!), { status }, 'merge');
    this.lastStatus.set(sandbox.uid, body);
  }
}

/** An HTTP GET answered 200-399 within the timeout (node:http: fetch would load undici into every kubelet). */
function httpOk(url: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = get(url, { timeout: timeoutMs }, (res) => {
      res.resume();
      resolve((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 400);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

function resolvePort(c: V1Container, port: number | string | undefined): number {
  if (typeof port === 'number') return port;
  const named = c.ports?.find((p) => p.name === port);
  if (named) return named.containerPort;
  return Number(port);
}

async function retry(task: () => Promise<void>, what: string, log: (l: string) => void): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await task();
    } catch (e) {
      if (attempt % 20 === 1) log(`waiting for the API server to ${what}: ${(e as Error).message}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
