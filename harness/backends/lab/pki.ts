import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../../../src/exec.js';
import { KUBERNETES_SERVICE_IP } from './layout.js';

/** A client identity: the user and groups the API server sees. */
export interface Identity {
  file: string;
  user: string;
  groups?: string[];
}

/** Client identities the control plane and the host use; flanneld and kube-proxy get service-account tokens instead. */
export const identities = {
  admin: { file: 'admin', user: 'kubernetes-admin', groups: ['system:masters'] },
  controllerManager: { file: 'kube-controller-manager', user: 'system:kube-controller-manager' },
  scheduler: { file: 'kube-scheduler', user: 'system:kube-scheduler' },
} as const satisfies Record<string, Identity>;

export interface Pki {
  dir: string;
  ca: string;
  serviceAccountKey: string;
  serviceAccountPub: string;
  apiserverCert: string;
  apiserverKey: string;
  /** Serving certificates of the controller manager and the scheduler (without them each makes a self-signed one at start, RSA: up to a second of CPU under load). */
  controllerManagerServing: { cert: string; key: string };
  schedulerServing: { cert: string; key: string };
  clientCert: (i: Identity) => string;
  clientKey: (i: Identity) => string;
}

const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '3650'];

/**
 * One CA per lab (ECDSA P-256: fast to make), the API server's serving certificate for every
 * name and address it is reached by, client certificates, and the service-account key pair.
 */
export async function createPki(dir: string, controlPlaneIp: string): Promise<Pki> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const p = (f: string) => join(dir, f);
  const pki: Pki = {
    dir,
    ca: p('ca.crt'),
    serviceAccountKey: p('sa.key'),
    serviceAccountPub: p('sa.pub'),
    apiserverCert: p('apiserver.crt'),
    apiserverKey: p('apiserver.key'),
    controllerManagerServing: { cert: p('kube-controller-manager-serving.crt'), key: p('kube-controller-manager-serving.key') },
    schedulerServing: { cert: p('kube-scheduler-serving.crt'), key: p('kube-scheduler-serving.key') },
    clientCert: (i) => p(`${i.file}.crt`),
    clientKey: (i) => p(`${i.file}.key`),
  };
  await run(['openssl', 'req', '-x509', '-new', ...ec, '-keyout', p('ca.key'), '-out', pki.ca, '-subj', '/CN=firedrill-ca',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  const signed = (name: string, subject: string, ext: string[]) =>
    run(['openssl', 'req', '-x509', '-new', ...ec, '-keyout', p(`${name}.key`), '-out', p(`${name}.crt`), '-subj', subject,
      '-CA', pki.ca, '-CAkey', p('ca.key'), '-addext', 'basicConstraints=critical,CA:FALSE', ...ext.flatMap((e) => ['-addext', e])]);
  const sans = [
    'IP:127.0.0.1', `IP:${controlPlaneIp}`, `IP:${KUBERNETES_SERVICE_IP}`,
    'DNS:localhost', 'DNS:kubernetes', 'DNS:kubernetes.default', 'DNS:kubernetes.default.svc', 'DNS:kubernetes.default.svc.cluster.local',
  ];
  await Promise.all([
    signed('apiserver', '/CN=kube-apiserver', [`subjectAltName=${sans.join(',')}`, 'extendedKeyUsage=serverAuth']),
    // Both serve on the control-plane node's loopback only.
    ...['kube-controller-manager', 'kube-scheduler'].map((c) => signed(`${c}-serving`, `/CN=${c}`, ['subjectAltName=IP:127.0.0.1,DNS:localhost', 'extendedKeyUsage=serverAuth'])),
    ...Object.values(identities).map((i: Identity) =>
      signed(i.file, `${(i.groups ?? []).map((g) => `/O=${g}`).join('')}/CN=${i.user}`, ['extendedKeyUsage=clientAuth'])),
    run(['openssl', 'ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', pki.serviceAccountKey]).then(() =>
      run(['openssl', 'ec', '-in', pki.serviceAccountKey, '-pubout', '-out', pki.serviceAccountPub])),
  ]);
  return pki;
}

/** Reads a PEM file for embedding in a kubeconfig. */
export async function pemBase64(file: string): Promise<string> {
  return Buffer.from(await readFile(file)).toString('base64');
}

