import { type Manifest, manifest as defaultManifest } from '../components.js';
import { environmentError } from '../errors.js';
import { connectDocker, inspectImage } from './docker.js';

/**
 * The pull path, where a registry is reachable: kind's own node image by the manifest's digest
 * (harness/components.json, kind.nodeImage) instead of the node image built here. It carries
 * kubeadm's default control-plane images; flannel's come from ghcr.io as the upstream manifest names them.
 */
export async function pullNodeImage(o: { say: (line: string) => void; manifest?: Manifest }): Promise<string> {
  const ref = (o.manifest ?? defaultManifest).kind.nodeImage;
  if (!/@sha256:[0-9a-f]{64}$/.test(ref)) throw new Error(`harness/components.json pins kind.nodeImage without a digest: ${ref}`);
  const { api } = await connectDocker();
  if (await inspectImage(api, ref)) {
    o.say(`${ref} is here already`);
    return ref;
  }
  o.say(`pulling ${ref}`);
  try {
    await new Promise<void>((resolve, reject) => {
      api.pull(ref, {}, (error, stream) => {
        if (error || !stream) return reject(error ?? new Error('no response'));
        api.modem.followProgress(stream, (e: Error | null) => (e ? reject(e) : resolve()));
      });
    });
  } catch (e) {
    throw environmentError(`cannot pull ${ref}: ${(e as Error).message.split('\n')[0]}`, 'without a registry, build the node image here instead: leave out --pull (`firedrill image build` builds every image offline)');
  }
  return ref;
}
