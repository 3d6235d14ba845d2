import { ExitCode } from '../errors.js';
import { ensureKindImages } from '../images/images.js';
import { NODE_IMPORTED } from '../images/names.js';
import { table } from '../report/table.js';
import { duration } from '../setup/setup.js';

export interface ImageBuildFlags {
  force?: boolean;
  cacheDir?: string;
  json?: boolean;
}

export async function imageBuildCommand(flags: ImageBuildFlags): Promise<number> {
  const started = performance.now();
  const set = await ensureKindImages({
    force: !!flags.force,
    ...(flags.cacheDir ? { cacheRoot: flags.cacheDir } : {}),
    say: (line) => process.stderr.write(`image: ${line}\n`),
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
