import { ExitCode } from '../errors.js';
import { ensureKindImages } from '../images/images.js';
import { NODE_IMPORTED } from '../images/names.js';
import { pullNodeImage } from '../images/pull.js';
import { sayProgress } from '../progress.js';
import { table } from '../report/table.js';
import { duration } from '../setup/setup.js';

export interface ImageBuildFlags {
  force?: boolean;
  cacheDir?: string;
  json?: boolean;
  pull?: boolean;
}

export async function imageBuildCommand(flags: ImageBuildFlags): Promise<number> {
  const started = performance.now();
  if (flags.pull) return pullCommand(flags, started);
  const set = await ensureKindImages({
    force: !!flags.force,
    ...(flags.cacheDir ? { cacheRoot: flags.cacheDir } : {}),
    say: (line) => sayProgress(`image: ${line}`),
  });
  const seconds = (performance.now() - started) / 1000;
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ ...set, seconds }, null, 2)}\n`);
    return ExitCode.ok;
  }
  const built = new Map(set.built.map((b) => [b.key, b]));
  const keys = [...NODE_IMPORTED, 'kind-node' as const];
  const rows = keys.map((k) => [k, set.byKey[k].join(' '), built.has(k) ? `built ${duration(built.get(k)!.seconds)}` : 'reused', set.inputs[k]]);
  for (const b of set.built.filter((x) => !keys.includes(x.key))) rows.push([b.key, set.byKey[b.key].join(' '), `built ${duration(b.seconds)}`, set.inputs[b.key]]);
  process.stdout.write(`${table(['IMAGE', 'REFERENCES', 'STATE', 'INPUTS'], rows)}\n`);
  process.stdout.write(`node image ${set.node} ready in ${duration(seconds)} (manifest ${set.manifestHash}); kubeadm: etcd.local.imageTag=${set.etcdTag}, dns.imageTag=${set.corednsTag}\n`);
  return ExitCode.ok;
}

/** --pull: kind's own node image by the manifest's digest; only the probe image is built here. */
async function pullCommand(flags: ImageBuildFlags, started: number): Promise<number> {
  const say = (line: string) => sayProgress(`image: ${line}`);
  const node = await pullNodeImage({ say });
  const set = await ensureKindImages({ force: !!flags.force, ...(flags.cacheDir ? { cacheRoot: flags.cacheDir } : {}), say, only: ['probe'] });
  const seconds = (performance.now() - started) / 1000;
  if (flags.json) process.stdout.write(`${JSON.stringify({ node, probe: set.probe, built: set.built, seconds }, null, 2)}\n`);
  else process.stdout.write(`node image ${node} (pulled) and probe image ${set.probe} (built here, loaded into each cluster) ready in ${duration(seconds)}\n`);
  return ExitCode.ok;
}
