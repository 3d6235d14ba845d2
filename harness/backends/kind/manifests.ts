import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { packageInfo } from '../../package-info.js';

const Source = z.object({ source: z.string(), flannelVersion: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/) });

const dir = () => join(packageInfo().root, 'harness', 'backends', 'kind', 'manifests');

/** The upstream kube-flannel.yml, exactly as vendored (its checksum checked), with where it came from. */
export async function kubeFlannelManifest(): Promise<{ text: string; source: z.infer<typeof Source> }> {
  const [text, meta] = await Promise.all([readFile(join(dir(), 'kube-flannel.yml'), 'utf8'), readFile(join(dir(), 'kube-flannel.source.json'), 'utf8')]);
  const source = Source.parse(JSON.parse(meta));
  const sum = createHash('sha256').update(text).digest('hex');
  if (sum !== source.sha256) throw new Error(`kube-flannel.yml does not match its recorded sha256 (${sum} != ${source.sha256}): it must stay the upstream file, unchanged`);
  return { text, source };
}
