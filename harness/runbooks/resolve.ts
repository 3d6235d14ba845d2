import { type ScenarioContext } from '../../scenarios/scenario.js';
import { usageError } from '../errors.js';
import { FAULT_PREFIX, type FileStep, PLACEHOLDER, type RunbookFile, toMs } from './format.js';

/** One concrete action: every variable filled, every selector turned into one node. */
export type Action =
  | { kind: 'exec'; node: string; argv: string[]; expect: { exit: number; output?: string }; allowFailure: boolean }
  | { kind: 'patch'; resource: 'Node' | 'Deployment'; namespace?: string; name: string; patchType: 'merge' | 'strategic'; body: unknown }
  | { kind: 'restart'; node: string; component: 'flanneld' | 'kubelet' }
  | { kind: 'wait-rollout'; namespace: string; name: string }
  | { kind: 'delete-pod'; namespace: string; name?: string; labelSelector?: string; nodes?: string[] }
  | { kind: 'cordon' | 'uncordon' | 'drain'; node: string }
  | { kind: 'pause'; ms: number };

export interface ResolvedStep {
  /** The step of the file it comes from (0-based). */
  index: number;
  action: Action;
  why: string;
  timeoutMs: number;
  retries: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const LONG_TIMEOUT_MS = 60_000;

/** The values of the variables, read from the cluster only when a runbook uses them. */
export class Variables {
  private cache = new Map<string, Promise<string | string[]>>();
  constructor(
    private ctx: ScenarioContext,
    private cluster: string,
  ) {}

  get peers() {
    return this.ctx.nodes.filter((n) => n.name !== this.ctx.target).map((n) => n.name);
  }

  async value(name: string): Promise<string | string[]> {
    let v = this.cache.get(name);
    if (!v) {
      v = this.read(name);
      this.cache.set(name, v);
    }
    return v;
  }

  private async read(name: string): Promise<string | string[]> {
    const { ctx } = this;
    const files = () => ctx.access.nodeFiles(ctx.target);
    const onNode = async (argv: string[]) => (await ctx.access.node(ctx.target).exec(argv)).stdout;
    const subnetEnv = async (key: string) => {
      const env = await onNode(['cat', files().subnetEnv]);
      const value = new RegExp(`^${key}=(\\S+)$`, 'm').exec(env)?.[1];
      if (!value) throw new Error(`${ctx.target}: no ${key} in ${files().subnetEnv}`);
      return value;
    };
    if (name.startsWith(FAULT_PREFIX)) {
      const key = name.slice(FAULT_PREFIX.length);
      if (!(key in ctx.memo)) throw usageError(`{{${name}}}: the scenario's injection recorded no "${key}"`, `it recorded: ${Object.keys(ctx.memo).join(', ') || 'nothing'}`);
      return String(ctx.memo[key]);
    }
    switch (name) {
      case 'node':
      case 'target':
        return ctx.target;
      case 'peers':
        return this.peers;
      case 'node_ip':
        return ctx.nodes.find((n) => n.name === ctx.target)!.ip;
      case 'gateway':
        return subnetEnv('FLANNEL_SUBNET');
      case 'subnet':
        return networkOf(await subnetEnv('FLANNEL_SUBNET'));
      case 'mtu':
        return subnetEnv('FLANNEL_MTU');
      case 'vtep_mac':
        return (await onNode(['cat', '/sys/class/net/flannel.1/address'])).trim();
      case 'cluster':
        return this.cluster;
      case 'flannel_data_dir':
        return files().flannelDataDir;
      case 'subnet_env':
        return files().subnetEnv;
      case 'pod_veths': {
        // The node's veths that carry no address of their own: pod ends' peers, never an uplink.
        const links = JSON.parse((await onNode(['ip', '-j', 'link', 'show', 'type', 'veth'])) || '[]') as { ifname: string }[];
        const addressed = new Set((JSON.parse((await onNode(['ip', '-j', '-4', 'addr', 'show'])) || '[]') as { ifname: string }[]).map((a) => a.ifname));
        return links.map((l) => l.ifname).filter((n) => !addressed.has(n));
      }
      default:
        throw usageError(`unknown variable {{${name}}}`, 'firedrill runbook lint FILE lists the known ones');
    }
  }

  /** Fills every {{…}} of a string; an argv item that is exactly a list variable becomes one item per element. */
  async fill(text: string, item?: string): Promise<string> {
    let out = '';
    let last = 0;
    for (const m of text.matchAll(PLACEHOLDER)) {
      out += text.slice(last, m.index);
      const name = m[1]!;
      const v = name === 'item' ? item! : await this.value(name);
      out += Array.isArray(v) ? v.join(',') : v;
      last = m.index + m[0].length;
    }
    return out + text.slice(last);
  }

  async fillArgv(argv: string[], item?: string): Promise<string[]> {
    const out: string[] = [];
    for (const a of argv) {
      const whole = /^\{\{\s*(peers|pod_veths)\s*\}\}$/.exec(a);
      if (whole) out.push(...((await this.value(whole[1]!)) as string[]));
      else out.push(await this.fill(a, item));
    }
    return out;
  }

  async fillDeep(value: unknown, item?: string): Promise<unknown> {
    if (typeof value === 'string') return this.fill(value, item);
    if (Array.isArray(value)) return Promise.all(value.map((v) => this.fillDeep(v, item)));
    if (value && typeof value === 'object') return Object.fromEntries(await Promise.all(Object.entries(value).map(async ([k, v]) => [await this.fill(k, item), await this.fillDeep(v, item)])));
    return value;
  }

  /** The nodes a selector names, in the cluster's order; a selector that matches none is an error. */
  async select(selector: string, where: string, item?: string): Promise<string[]> {
    const names = this.ctx.nodes.map((n) => n.name);
    const s = await this.fill(selector, item);
    const chosen = s === 'faulted' ? [this.ctx.target] : s === 'all' ? names : s === 'others' ? this.peers : names.includes(s) ? [s] : [];
    if (!chosen.length) {
      throw usageError(`${where}: node selector "${selector}"${s !== selector ? ` (${s})` : ''} matches no node of cluster ${this.cluster}`, `selectors: faulted, all, others, or a node name: ${names.join(', ')}`);
    }
    return chosen;
  }
}

/** 10.244.1.1/24 -> 10.244.1.0/24 */
export function networkOf(cidr: string): string {
  const [ip, bits] = cidr.split('/');
  const n = ip!.split('.').reduce((a, o) => a * 256 + Number(o), 0);
  const prefix = Number(bits);
  const net = prefix === 0 ? 0 : (n - (n % 2 ** (32 - prefix)));
  return `${[24, 16, 8, 0].map((s) => Math.floor(net / 2 ** s) % 256).join('.')}/${prefix}`;
}

/** Every step of a file, resolved against a cluster: the exact argv and API calls, per node. */
export async function resolveRunbook(file: RunbookFile, vars: Variables): Promise<ResolvedStep[]> {
  const out: ResolvedStep[] = [];
  for (const [index, step] of file.steps.entries()) {
    const items = 'for_each' in step && step.for_each ? ((await vars.value(step.for_each)) as string[]) : [undefined];
    for (const item of items) {
      for (const action of await resolveStep(step, vars, `steps.${index}`, item)) {
        const long = action.kind === 'wait-rollout' || action.kind === 'drain' || action.kind === 'delete-pod';
        out.push({
          index,
          action,
          why: step.why ? await vars.fill(step.why, item) : `runbook step ${index + 1}`,
          timeoutMs: step.kind !== 'pause' && step.timeout !== undefined ? toMs(step.timeout) : action.kind === 'pause' ? action.ms + 1000 : long ? LONG_TIMEOUT_MS : DEFAULT_TIMEOUT_MS,
          retries: step.kind !== 'pause' ? (step.retries ?? 0) : 0,
        });
      }
    }
  }
  return out;
}

async function resolveStep(step: FileStep, vars: Variables, where: string, item: string | undefined): Promise<Action[]> {
  const f = (s: string) => vars.fill(s, item);
  switch (step.kind) {
    case 'exec': {
      const argv = await vars.fillArgv(step.argv, item);
      const expect = { exit: step.expect?.exit ?? 0, ...(step.expect?.output !== undefined ? { output: await f(step.expect.output) } : {}) };
      return (await vars.select(step.node, `${where}.node`, item)).map((node) => ({ kind: 'exec', node, argv, expect, allowFailure: step.allowFailure ?? false }));
    }
    case 'patch':
      return [{ kind: 'patch', resource: step.resource, ...(step.namespace ? { namespace: await f(step.namespace) } : {}), name: await f(step.name), patchType: step.patchType, body: await vars.fillDeep(step.body, item) }];
    case 'restart':
      return (await vars.select(step.node, `${where}.node`, item)).map((node) => ({ kind: 'restart', node, component: step.component }));
    case 'wait-rollout':
      return [{ kind: 'wait-rollout', namespace: await f(step.namespace), name: await f(step.name) }];
    case 'delete-pod':
      return [
        {
          kind: 'delete-pod',
          namespace: await f(step.namespace),
          ...(step.name ? { name: await f(step.name) } : {}),
          ...(step.labelSelector ? { labelSelector: await f(step.labelSelector) } : {}),
          ...(step.node ? { nodes: await vars.select(step.node, `${where}.node`, item) } : {}),
        },
      ];
    case 'cordon':
    case 'uncordon':
    case 'drain':
      return (await vars.select(step.node, `${where}.node`, item)).map((node) => ({ kind: step.kind, node }));
    case 'pause':
      return [{ kind: 'pause', ms: toMs(step.duration) }];
  }
}
