import { readFile } from 'node:fs/promises';
import { Agent, request } from 'node:https';
import { z } from 'zod';
import { tryParseJson } from '../../../src/json.js';

/**
 * The few API calls a lab kubelet makes, and `lab up`'s readiness reads, as plain JSON over
 * one keep-alive HTTPS agent. Not @kubernetes/client-node: importing it costs every kubelet
 * about 90 MB and 0.6 s of CPU (at 50 nodes, 4.5 GB and half a minute of both cores while
 * the API server starts), and its deserializer costs tens of ms per list of 50 nodes, which
 * polling at 100 ms turns into most of a core.
 */
export interface LabApi {
  get<T>(path: string): Promise<T>;
  post<T>(path: string, body: unknown): Promise<T>;
  patch<T>(path: string, body: unknown, strategy: 'merge' | 'strategic'): Promise<T>;
  delete(path: string, body?: unknown): Promise<void>;
  /** Streams watch events until the server or the connection ends it; `onEnd` is called once. */
  watch(path: string, query: Record<string, string>, onEvent: (type: string, object: unknown) => void, onEnd: (err?: Error) => void): void;
}

/** An API answer that was not 2xx; `code` is what src/kube/client.ts's apiStatus reads. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
  }
}

const Kubeconfig = z.object({
  clusters: z.array(z.object({ cluster: z.object({ server: z.string(), 'certificate-authority-data': z.string() }) })).min(1),
  users: z
    .array(
      z.object({
        user: z.object({ 'client-certificate-data': z.string().optional(), 'client-key-data': z.string().optional(), token: z.string().optional() }),
      }),
    )
    .min(1),
});

const REQUEST_TIMEOUT_MS = 15_000;
const contentTypes = { merge: 'application/merge-patch+json', strategic: 'application/strategic-merge-patch+json' };

/** A client for the first cluster and user of a kubeconfig as `lab up` writes them (data embedded). */
export async function labApi(kubeconfigPath: string): Promise<LabApi> {
  const config = Kubeconfig.parse(tryParseJson(await readFile(kubeconfigPath, 'utf8')));
  const { server, 'certificate-authority-data': ca } = config.clusters[0]!.cluster;
  const user = config.users[0]!.user;
  const decode = (b64?: string) => (b64 ? Buffer.from(b64, 'base64') : undefined);
  const agent = new Agent({ keepAlive: true, ca: decode(ca), cert: decode(user['client-certificate-data']), key: decode(user['client-key-data']) });
  const base = new URL(server);
  const headers = (extra: Record<string, string> = {}) => ({ Accept: 'application/json', ...(user.token ? { Authorization: `Bearer ${user.token}` } : {}), ...extra });

  const call = <T>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<T> =>
    new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      // Content-Length always: node sends a DELETE's body neither chunked nor sized otherwise.
      const sized: Record<string, string> = payload ? { 'Content-Type': contentType, 'Content-Length': String(Buffer.byteLength(payload)) } : {};
      const req = request(new URL(path, base), { method, agent, timeout: REQUEST_TIMEOUT_MS, headers: headers(sized) }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) return resolve((text ? tryParseJson(text) : undefined) as T);
          const message = (tryParseJson(text) as { message?: string } | undefined)?.message ?? text.slice(0, 200);
          reject(new ApiError(`${method} ${path}: HTTP ${status}: ${message}`, status));
        });
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in ${REQUEST_TIMEOUT_MS / 1000}s`)));
      req.on('error', reject);
      req.end(payload);
    });

  return {
    get: (path) => call('GET', path),
    post: (path, body) => call('POST', path, body),
    patch: (path, body, strategy) => call('PATCH', path, body, contentTypes[strategy]),
    delete: async (path, body) => void (await call('DELETE', path, body)),
    watch(path, query, onEvent, onEnd) {
      let ended = false;
      const end = (err?: Error) => {
        if (ended) return;
        ended = true;
        onEnd(err);
      };
      const url = new URL(path, base);
      for (const [k, v] of Object.entries({ ...query, watch: 'true' })) url.searchParams.set(k, v);
      const req = request(url, { method: 'GET', agent, headers: headers() }, (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          return end(new ApiError(`watch ${path}: HTTP ${res.statusCode}`, res.statusCode ?? 0));
        }
        let buffered = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffered += chunk;
          let newline: number;
          while ((newline = buffered.indexOf('\n')) >= 0) {
            const line = buffered.slice(0, newline).trim();
            buffered = buffered.slice(newline + 1);
            const event = line ? (tryParseJson(line) as { type?: string; object?: unknown } | undefined) : undefined;
            if (event?.type === 'ERROR') return req.destroy(new Error(`watch ${path}: ${JSON.stringify(event.object)}`));
            if (event?.type) onEvent(event.type, event.object);
          }
        });
        res.on('end', () => end());
        res.on('error', end);
      });
      req.on('error', end);
      req.end();
    },
  };
}

export const apiPath = {
  nodes: '/api/v1/nodes',
  node: (name: string) => `/api/v1/nodes/${name}`,
  nodeStatus: (name: string) => `/api/v1/nodes/${name}/status`,
  lease: (namespace: string, name: string) => `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases/${name}`,
  leases: (namespace: string) => `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases`,
  pod: (namespace: string, name: string) => `/api/v1/namespaces/${namespace}/pods/${name}`,
  podStatus: (namespace: string, name: string) => `/api/v1/namespaces/${namespace}/pods/${name}/status`,
  configMap: (namespace: string, name: string) => `/api/v1/namespaces/${namespace}/configmaps/${name}`,
};
