import { writeFile } from 'node:fs/promises';
import { pemBase64 } from './pki.js';

export type Credentials = { cert: string; key: string } | { token: string };

/** Writes a kubeconfig (JSON is valid kubeconfig YAML) with the CA and credentials embedded. */
export async function writeKubeconfig(file: string, opts: { cluster: string; server: string; ca: string; user: string; credentials: Credentials }): Promise<void> {
  const user =
    'token' in opts.credentials
      ? { token: opts.credentials.token }
      : { 'client-certificate-data': await pemBase64(opts.credentials.cert), 'client-key-data': await pemBase64(opts.credentials.key) };
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: opts.cluster, cluster: { server: opts.server, 'certificate-authority-data': await pemBase64(opts.ca) } }],
    users: [{ name: opts.user, user }],
    contexts: [{ name: opts.cluster, context: { cluster: opts.cluster, user: opts.user } }],
    'current-context': opts.cluster,
  };
  await writeFile(file, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
}
