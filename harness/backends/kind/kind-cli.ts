import { run } from '../../../src/exec.js';
import { components } from '../../components.js';
import { failure } from '../../errors.js';
import { requireBinary } from '../../setup/cache.js';

export interface CreateOptions {
  clusterName: string;
  configFile: string;
  image: string;
  kubeconfig: string;
  /** The docker network the nodes join (kind's KIND_EXPERIMENTAL_DOCKER_NETWORK). */
  network: string;
  signal?: AbortSignal;
}

/** The kind binary firedrill setup built, driven by argv: one method per kind command firedrill uses. */
export class KindCli {
  constructor(readonly binary: string) {}

  static async fromCache(cacheRoot: string): Promise<KindCli> {
    const kind = components().find((c) => c.name === 'kind');
    if (!kind) throw new Error('the component manifest has no kind entry');
    return new KindCli(await requireBinary(cacheRoot, kind, 'kind'));
  }

  async createCluster(o: CreateOptions): Promise<void> {
    // --wait 0: kind's own wait is for a Ready control plane, which needs the CNI firedrill applies next.
    await this.kind(['create', 'cluster', '--name', o.clusterName, '--config', o.configFile, '--image', o.image, '--kubeconfig', o.kubeconfig, '--wait', '0s'], {
      env: { KIND_EXPERIMENTAL_DOCKER_NETWORK: o.network },
      timeoutMs: 600_000,
      ...(o.signal ? { signal: o.signal } : {}),
    });
  }

  async deleteCluster(clusterName: string): Promise<void> {
    await this.kind(['delete', 'cluster', '--name', clusterName], { timeoutMs: 180_000 });
  }

  async clusters(): Promise<string[]> {
    const r = await this.kind(['get', 'clusters'], { timeoutMs: 60_000 });
    return r.stdout.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('No kind clusters'));
  }

  async kubeconfig(clusterName: string): Promise<string> {
    return (await this.kind(['get', 'kubeconfig', '--name', clusterName], { timeoutMs: 60_000 })).stdout;
  }

  async loadImages(clusterName: string, images: string[]): Promise<void> {
    await this.kind(['load', 'docker-image', '--name', clusterName, ...images], { timeoutMs: 600_000 });
  }

  async exportLogs(clusterName: string, dir: string): Promise<void> {
    await this.kind(['export', 'logs', dir, '--name', clusterName], { timeoutMs: 300_000 });
  }

  private async kind(args: string[], options: { env?: Record<string, string>; timeoutMs: number; signal?: AbortSignal }) {
    const r = await run([this.binary, ...args], { ...options, check: false });
    if (r.exitCode !== 0) throw failure(`kind ${args.slice(0, 2).join(' ')} failed (exit ${r.exitCode}):\n${(r.stderr || r.stdout).trim().split('\n').slice(-15).join('\n')}`, 'see the lines above; `firedrill prune` removes what a failed run left');
    return r;
  }
}
