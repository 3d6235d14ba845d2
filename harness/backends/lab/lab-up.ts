import { mkdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import type { V1NodeList, V1PodList } from '@kubernetes/client-node';
import { lastLines, run } from '../../../src/exec.js';
import { type Kube, connect, isReady, serverSideApply } from '../../../src/kube/client.js';
import { type Component, components } from '../../components.js';
import { failure, usageError } from '../../errors.js';
import { greenPoll } from '../../green.js';
import { interruptible } from '../../interrupt.js';
import { packageInfo } from '../../package-info.js';
import { requireRoot, requireTools, warnOnLowInotifyLimit } from '../../preflight.js';
import { binaryPath, requireBinary } from '../../setup/cache.js';
import { type Poll, waitFor } from '../../wait.js';
import { coreDnsAccount, coreDnsObjects, flannelCniConf, flannelNetConf, flannelObjects, kubeProxyObjects, LAB_PROBE_IMAGE, probeObjects } from './addons.js';
import { labAccess } from './access.js';
import { ApiError, apiPath, type LabApi, labApi } from './api.js';
import { type Binaries, controlPlaneSpecs } from './control-plane.js';
import { writeKubeconfig } from './kubeconfig.js';
import { type KubeletConfig } from './kubelet/main.js';
import { labDown } from './lab-down.js';
import { API_PORT, CLUSTER_CIDR, labPaths, type NodeLayout, nodeLayout, podNetnsPrefix, underlayNetns, UNDERLAY_PREFIX } from './layout.js';
import { createNodesAndUnderlay } from './network.js';
import { createPki, identities, type Pki } from './pki.js';
import { joinCpuGroup, labCpuGroup } from './cpu-group.js';
import { isRunning, labelledProcesses, type ProcessRecord, setNiceness, type StartSpec, startProcess } from './processes.js';
import { type LabState, readState, writeState } from './state.js';

export interface UpOptions {
  name: string;
  nodes: number;
  podsPerNode: number;
  dnsReplicas: number;
  cacheRoot: string;
  say: (line: string) => void;
  /** Per readiness step. */
  stepTimeoutMs: number;
  /** Leave a lab that failed to come up in place, for inspection (`lab down` removes it). */
  keepOnFailure?: boolean;
}

export interface UpResult {
  state: LabState;
  /** Seconds from start to each step's end, for the bench and the progress lines. */
  timings: Record<string, number>;
}

/**
 * Builds a lab: a kind-shaped cluster whose nodes are network namespaces running the real
 * components. Returns once the probe matrix and DNS are green. On any failure, or Ctrl-C,
 * everything created so far is removed before the error is reported.
 */
export async function labUp(options: UpOptions): Promise<UpResult> {
  requireRoot('lab up');
  await requireTools(['ip', 'bridge', 'iptables', 'sysctl', 'nsenter', 'socat', 'openssl', 'fping', 'busybox']);
  const bins = await resolveBinaries(options.cacheRoot);
  const existing = await readState(options.name).catch(() => undefined);
  if (existing) {
    throw usageError(`a lab named "${options.name}" already exists (status ${existing.status})`, `remove it with \`firedrill lab down --name ${options.name}\`, or pick another --name`);
  }
  warnOnLowInotifyLimit(options.say);
  const started = performance.now();
  const timings: Record<string, number> = {};
  const mark = (step: string) => (timings[step] = Math.round(performance.now() - started) / 1000);
  const nodes = nodeLayout(options.name, options.nodes);
  const paths = labPaths(options.name);
  const state: LabState = {
    name: options.name,
    status: 'creating',
    createdAt: new Date().toISOString(),
    firedrillVersion: packageInfo().version,
    podsPerNode: options.podsPerNode,
    nodes,
    underlay: { netns: underlayNetns(options.name), bridge: 'br0', cidr: `172.18.0.0/${UNDERLAY_PREFIX}` },
    apiserver: { url: `https://${nodes[0]!.ip}:${API_PORT}` },
    kubeconfig: paths.adminKubeconfig,
    versions: Object.fromEntries(components().map((c) => [c.name, c.version])),
    processes: [],
  };
  // The state file comes first: whatever happens next, `lab down` and `prune` can find it.
  await writeState(state);
  return interruptible(
    async (signal) => {
      // Components of a step start at once, and the state file is written once per step: a
      // process left out of it by a failure is still found by its label (lab down, prune).
      const start = async (specs: Omit<StartSpec, 'lab'>[]) => {
        signal.throwIfAborted();
        const records = await Promise.all(specs.map((spec) => startProcess({ ...spec, lab: options.name })));
        state.processes.push(...records);
        await writeState(state);
      };
      const guard = () => requireAlive(state.processes);
      const wait = { timeoutMs: options.stepTimeoutMs, guard, signal };

      options.say(`creating ${nodes.length} nodes (network namespaces on underlay 172.18.0.0/16) and the cluster's certificates`);
      await Promise.all([paths.logs, paths.kubeconfigs, dirname(paths.netConf)].map((d) => mkdir(d, { recursive: true })));
      await mkdir(paths.etcd, { recursive: true, mode: 0o700 });
      const [, pki, hostPort] = await Promise.all([createNodesAndUnderlay(options.name, nodes), createPki(paths.pki, nodes[0]!.ip), freeLoopbackPort()]);
      state.apiserver.hostPort = hostPort;
      state.apiserver.hostUrl = `https://127.0.0.1:${hostPort}`;
      await Promise.all([
        writeKubeconfigs(options.name, state, pki),
        writeFile(paths.netConf, `${JSON.stringify(flannelNetConf, null, 2)}\n`),
        ...nodes.map((node) => writeNodeFiles(options.name, node)),
      ]);
      mark('nodes');

      options.say('starting etcd and kube-apiserver on the control-plane node, and the kubelets');
      const [etcd, apiserver, ...controllers] = controlPlaneSpecs(options.name, nodes[0]!, pki, bins);
      // Kubelets start now: they register their nodes as soon as the API answers.
      await start([etcd!, ...relaySpecs(options.name, nodes[0]!, hostPort), ...(await Promise.all(nodes.map((node) => kubeletSpec(options.name, node, bins, options.cacheRoot))))]);
      // The API server's etcd client backs off (1 s, 1.6 s, 2.6 s…) while nothing listens on
      // etcd's port: under load that cost the API server 10 s. It starts once etcd listens.
      await waitFor('etcd listening on 127.0.0.1:2379', () => etcdListening(nodes[0]!), { ...wait, intervalMs: 20 });
      await start([apiserver!]);
      const api = await labApi(paths.adminKubeconfig);
      options.say(`waiting for kube-apiserver to be ready (${state.apiserver.hostUrl}/readyz)`);
      // The client library (about half a second of CPU, blocking this process) loads once the API
      // server answers at all: its post-start hooks then wait a second with the CPU to spare, where
      // before it would have competed with the server's own start. Side by side, four 3-node labs
      // each: ready 0.06–0.39 s sooner, green 0.05–0.23 s sooner.
      let connecting: Promise<Kube> | undefined;
      const loadClient = () => {
        if (!connecting) {
          connecting = connect(paths.adminKubeconfig);
          connecting.catch(() => undefined);
        }
        return connecting;
      };
      await waitFor('kube-apiserver /readyz', () => apiReady(api, loadClient), { ...wait, intervalMs: 50 });
      const kube = await loadClient();
      mark('apiserver');
      // After /readyz, as a static pod restarted by kubelet would end up: they exit if RBAC is not bootstrapped yet.
      options.say('starting kube-controller-manager and kube-scheduler');
      await start(controllers);

      options.say('applying flannel (kube-flannel.yml without its DaemonSet) and kube-proxy RBAC; starting kube-proxy on every node');
      await serverSideApply(kube, [...flannelObjects, ...kubeProxyObjects, coreDnsAccount]);
      await writeServiceAccountKubeconfigs(kube, options.name, state, pki);
      await start(nodes.map((node) => kubeProxySpec(options.name, node, bins)));
      options.say(`deploying CoreDNS (${options.dnsReplicas} replicas, Service kube-dns 10.96.0.10)`);
      await serverSideApply(kube, coreDnsObjects({ version: state.versions.coredns!, replicas: options.dnsReplicas, kubeconfig: join(paths.kubeconfigs, 'coredns.json') }));
      // flanneld exits when its node has no podCIDR yet (on kind its DaemonSet pod would crash-loop
      // until then): each node's starts as soon as that node has one.
      options.say(`starting flanneld on each of the ${nodes.length} nodes once it has registered and has a podCIDR from the controller manager`);
      const flannelStarted = new Set<string>();
      await waitFor(
        'nodes registered with a podCIDR',
        async (): Promise<Poll<true>> => {
          const withCidr = new Set((await api.get<V1NodeList>(apiPath.nodes)).items.filter((n) => n.spec?.podCIDR).map((n) => n.metadata!.name!));
          const due = nodes.filter((n) => withCidr.has(n.name) && !flannelStarted.has(n.name));
          await start(due.map((node) => flanneldSpec(options.name, node, bins)));
          for (const node of due) flannelStarted.add(node.name);
          return flannelStarted.size >= nodes.length ? { done: true, value: true } : { done: false, reason: `${withCidr.size}/${nodes.length} nodes registered with a podCIDR` };
        },
        wait,
      );
      mark('podcidr');
      // Only now: the scheduler spreads them over the nodes registered when it places them, and a node
      // that registers late (a loaded machine) would be left without pods, its cni0 never created.
      options.say(`deploying ${options.podsPerNode * nodes.length} probe pods, spread over the ${nodes.length} nodes`);
      await serverSideApply(kube, probeObjects(options.podsPerNode * nodes.length, LAB_PROBE_IMAGE));
      options.say(`waiting for ${nodes.length} nodes to be Ready with flannel's annotations`);
      await waitFor('nodes Ready with flannel annotations', () => nodesReady(api, nodes.length), wait);
      mark('nodes-ready');
      options.say('waiting for the probe pods and CoreDNS to run and be ready');
      await waitFor('probe pods and CoreDNS ready', () => podsReady(api, options.podsPerNode * nodes.length, options.dnsReplicas), wait);
      mark('pods-ready');
      options.say('waiting for the all-pairs ping matrix and DNS through 10.96.0.10 to be green');
      const report = await waitFor('a green probe matrix and DNS', greenPoll(kube, labAccess(state)), { ...wait, intervalMs: 200 });
      mark('green');
      options.say(`green: ${report.ping.length} pings and ${report.dns.length} DNS lookups ok`);
      await yieldNodesCpu(state);
      state.status = 'ready';
      await writeState(state);
      return { state, timings };
    },
    async () => {
      if (options.keepOnFailure) {
        state.status = 'failed';
        await writeState(state);
        options.say(`lab up failed; the lab is left in place for inspection (--keep-on-failure): firedrill lab down --name ${options.name} removes it`);
      } else {
        options.say('lab up failed; removing everything it created');
        await labDown(options.name, () => undefined);
      }
    },
  );
}

async function resolveBinaries(root: string): Promise<Binaries> {
  const byName = new Map(components().map((c) => [c.name, c]));
  const c = (name: string): Component => byName.get(name)!;
  // One check per component (it runs each of the component's binaries for its version), not one per binary.
  const [etcd, kubeApiserver, flanneld, coredns, bridge, flannel] = await Promise.all([
    requireBinary(root, c('etcd'), 'etcd'),
    requireBinary(root, c('kubernetes'), 'kube-apiserver'),
    requireBinary(root, c('flannel'), 'flanneld'),
    requireBinary(root, c('coredns'), 'coredns'),
    requireBinary(root, c('cni-plugins'), 'bridge'),
    requireBinary(root, c('flannel-cni-plugin'), 'flannel'),
  ]);
  const kubernetes = (binary: string) => binaryPath(root, c('kubernetes'), binary);
  const [kubeControllerManager, kubeScheduler, kubeProxy] = [kubernetes('kube-controller-manager'), kubernetes('kube-scheduler'), kubernetes('kube-proxy')];
  const cniDir = join(root, 'cni-bin');
  // One CNI_PATH with every plugin, as /opt/cni/bin on a node.
  await mkdir(cniDir, { recursive: true });
  for (const [name, target] of [
    ['bridge', bridge],
    ['host-local', binaryPath(root, c('cni-plugins'), 'host-local')],
    ['portmap', binaryPath(root, c('cni-plugins'), 'portmap')],
    ['loopback', binaryPath(root, c('cni-plugins'), 'loopback')],
    ['flannel', flannel],
  ] as const) {
    // Atomic: another lab may be starting from the same cache at this moment.
    const tmp = join(cniDir, `.${name}.${process.pid}`);
    await rm(tmp, { force: true });
    await symlink(target, tmp);
    await rename(tmp, join(cniDir, name));
  }
  return { etcd, kubeApiserver, kubeControllerManager, kubeScheduler, kubeProxy, flanneld, coredns, cniDir };
}

async function writeKubeconfigs(lab: string, state: LabState, pki: Pki): Promise<void> {
  const paths = labPaths(lab);
  const cert = (i: (typeof identities)[keyof typeof identities]) => ({ cert: pki.clientCert(i), key: pki.clientKey(i) });
  await Promise.all([
    writeKubeconfig(paths.adminKubeconfig, { cluster: `firedrill-${lab}`, server: state.apiserver.hostUrl!, ca: pki.ca, user: 'kubernetes-admin', credentials: cert(identities.admin) }),
    writeKubeconfig(join(paths.kubeconfigs, 'admin-underlay.json'), { cluster: `firedrill-${lab}`, server: state.apiserver.url, ca: pki.ca, user: 'kubernetes-admin', credentials: cert(identities.admin) }),
    writeKubeconfig(join(paths.kubeconfigs, `${identities.controllerManager.file}.json`), { cluster: lab, server: state.apiserver.url, ca: pki.ca, user: identities.controllerManager.user, credentials: cert(identities.controllerManager) }),
    writeKubeconfig(join(paths.kubeconfigs, `${identities.scheduler.file}.json`), { cluster: lab, server: state.apiserver.url, ca: pki.ca, user: identities.scheduler.user, credentials: cert(identities.scheduler) }),
  ]);
}

/** flanneld, kube-proxy and CoreDNS authenticate as their ServiceAccounts, as their pods do on kind. */
async function writeServiceAccountKubeconfigs(kube: Kube, lab: string, state: LabState, pki: Pki): Promise<void> {
  const paths = labPaths(lab);
  const token = async (namespace: string, name: string) => {
    const t = await kube.core.createNamespacedServiceAccountToken({ name, namespace, body: { spec: { audiences: [], expirationSeconds: 7 * 24 * 3600 } } });
    if (!t.status?.token) throw failure(`the API server issued no token for ServiceAccount ${namespace}/${name}`);
    return t.status.token;
  };
  const accounts = [
    { file: 'flannel.json', namespace: 'kube-flannel', name: 'flannel', server: state.apiserver.url },
    { file: 'kube-proxy.json', namespace: 'kube-system', name: 'kube-proxy', server: state.apiserver.url },
    // CoreDNS runs in a pod: it reaches the API through the kubernetes Service, as in-cluster clients do.
    { file: 'coredns.json', namespace: 'kube-system', name: 'coredns', server: 'https://10.96.0.1:443' },
  ];
  await Promise.all(
    accounts.map(async (a) =>
      writeKubeconfig(join(paths.kubeconfigs, a.file), { cluster: lab, server: a.server, ca: pki.ca, user: `system:serviceaccount:${a.namespace}:${a.name}`, credentials: { token: await token(a.namespace, a.name) } }),
    ),
  );
}

/** What the flannel DaemonSet's install-cni init container and kubeadm put on a node. */
async function writeNodeFiles(lab: string, node: NodeLayout): Promise<void> {
  const np = labPaths(lab).node(node.name);
  await Promise.all([mkdir(np.cniConfDir, { recursive: true }), mkdir(dirname(np.subnetEnv), { recursive: true }), mkdir(np.pods, { recursive: true }), mkdir(dirname(np.kubeProxyConfig), { recursive: true })]);
  // kube-flannel.yml's cni-conf.json; only the node's file locations (flannel's subnetFile and
  // dataDir, host-local's dataDir) are set, because lab nodes share the host's filesystem.
  const [flannel, ...rest] = flannelCniConf.plugins;
  const conflist = { ...flannelCniConf, plugins: [{ ...flannel, subnetFile: np.subnetEnv, dataDir: np.flannelDataDir, ipam: { dataDir: np.ipamDataDir } }, ...rest] };
  await writeFile(np.cniConflist, `${JSON.stringify(conflist, null, 2)}\n`);
  // kind's KubeProxyConfiguration.
  const kubeProxy = {
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    clientConnection: { kubeconfig: join(labPaths(lab).kubeconfigs, 'kube-proxy.json') },
    hostnameOverride: node.name,
    mode: 'iptables',
    clusterCIDR: CLUSTER_CIDR,
    conntrack: { maxPerCore: 0 },
    iptables: { minSyncPeriod: '1s' },
  };
  await writeFile(np.kubeProxyConfig, `${JSON.stringify(kubeProxy, null, 2)}\n`);
}

/**
 * Once the lab is up, what runs on its nodes (flanneld, kube-proxy, the lab kubelet and the pods it
 * starts) runs at the lowest CPU priority. A real node runs them on its own CPUs; a lab runs N nodes'
 * worth on this machine's, beside the drill's probes and reads. The kernel shares the CPU between
 * sessions first and each of them leads one, so after a DNS rollout on 30 nodes thirty kube-proxies
 * resyncing held thirty shares to firedrill's one: its probes waited up to a second to start, and the DNS
 * drill's MTTD was 1.4–5.1 s instead of 0.45–0.62 s. The flanneld, and the iptables they run every
 * 5 s, also share one idle CPU group where the machine lets the lab make one (cpu-group.ts). The
 * others stay out of it: CoreDNS in such a group failed lookups under load, and kube-proxy, idle
 * but for changes, has to follow a DNS move quickly (the DNS drill's MTTR on 30 nodes was 10.2–15.6 s
 * with kube-proxy in the group, 9.2–11.9 s without, six drills each). Not while
 * the lab comes up: there they are the work (at niceness 19 from the start, a 30-node lab took 40 s
 * to turn green instead of 30). CPU nobody else wants is still theirs; the control plane (one of
 * each) keeps the default.
 */
const NODE_DAEMON_NICE = 19;
const NODE_DAEMONS: ReadonlySet<string> = new Set(['flanneld', 'kube-proxy', 'lab-kubelet']);

async function yieldNodesCpu(state: LabState): Promise<void> {
  const group = await labCpuGroup(state.name);
  for (const record of state.processes.filter((p) => NODE_DAEMONS.has(p.name))) {
    if (group && record.name === 'flanneld') {
      await joinCpuGroup(group, record.name, record.pid);
      record.cpuGroup = group;
    }
    await setNiceness(record.name, record.pid, NODE_DAEMON_NICE);
    record.nice = NODE_DAEMON_NICE;
  }
  // The pods started so far (containers are labelled namespace/pod/container); the kubelets start the next ones at their own niceness.
  for (const p of await labelledProcesses(state.name)) if (p.component.split('/').length === 3) await setNiceness(p.component, p.pid, NODE_DAEMON_NICE);
}

function flanneldSpec(lab: string, node: NodeLayout, bins: Binaries): Omit<StartSpec, 'lab'> {
  const paths = labPaths(lab);
  return {
    name: 'flanneld',
    node: node.name,
    netns: node.netns,
    log: join(paths.logs, `${node.name}-flanneld.log`),
    // kube-flannel.yml's args, plus what a pod gets from its mounts and downward API.
    argv: [
      bins.flanneld,
      '--ip-masq',
      '--kube-subnet-mgr',
      '--healthz-port=8081',
      `--kubeconfig-file=${join(paths.kubeconfigs, 'flannel.json')}`,
      '--iface=eth0',
      `--subnet-file=${paths.node(node.name).subnetEnv}`,
      `--net-config-path=${paths.netConf}`,
    ],
    env: { NODE_NAME: node.name, POD_NAME: `kube-flannel-ds-${node.name}`, POD_NAMESPACE: 'kube-flannel', EVENT_QUEUE_DEPTH: '5000', CONT_WHEN_CACHE_NOT_READY: 'false' },
  };
}

function kubeProxySpec(lab: string, node: NodeLayout, bins: Binaries): Omit<StartSpec, 'lab'> {
  return {
    name: 'kube-proxy',
    node: node.name,
    netns: node.netns,
    log: join(labPaths(lab).logs, `${node.name}-kube-proxy.log`),
    argv: [bins.kubeProxy, `--config=${labPaths(lab).node(node.name).kubeProxyConfig}`],
  };
}

async function kubeletSpec(lab: string, node: NodeLayout, bins: Binaries, cacheRoot: string): Promise<Omit<StartSpec, 'lab'>> {
  const paths = labPaths(lab);
  const np = paths.node(node.name);
  await mkdir(np.root, { recursive: true });
  const config: KubeletConfig = {
    lab,
    node: { name: node.name, role: node.role, ip: node.ip, kubernetesVersion: components().find((c) => c.name === 'kubernetes')!.version, runtimeVersion: `firedrill-lab://${packageInfo().version}` },
    kubeconfig: join(paths.kubeconfigs, 'admin-underlay.json'),
    podsDir: np.pods,
    podNetnsPrefix: podNetnsPrefix(lab),
    cni: { conflist: np.cniConflist, binDir: bins.cniDir, cacheDir: np.cniResults },
    coredns: bins.coredns,
  };
  const file = join(np.root, 'kubelet.json');
  await writeFile(file, `${JSON.stringify(config, null, 2)}\n`);
  return {
    name: 'lab-kubelet',
    node: node.name,
    netns: node.netns,
    hostMounts: true,
    log: join(paths.logs, `${node.name}-kubelet.log`),
    // Always the compiled kubelet, also when the harness itself runs from source (tests).
    argv: [process.execPath, join(packageInfo().root, 'dist', 'harness', 'backends', 'lab', 'kubelet', 'main.js'), file],
    // Compiled code is cached on disk: N kubelets start at once, and every later lab reuses it.
    env: { NODE_COMPILE_CACHE: join(cacheRoot, 'node-compile-cache') },
  };
}

/**
 * A host loopback port relayed into the control-plane node: host → unix socket → 172.18.0.2:6443.
 * nodelay: without it Nagle and delayed ACKs add ~40 ms to every API call through the relay.
 */
function relaySpecs(lab: string, cp: NodeLayout, hostPort: number): Omit<StartSpec, 'lab'>[] {
  const paths = labPaths(lab);
  return [
    {
      name: 'api-relay',
      node: cp.name,
      netns: cp.netns,
      log: join(paths.logs, 'api-relay.log'),
      argv: ['socat', `UNIX-LISTEN:${paths.apiSocket},fork,unlink-early,mode=600`, `TCP:${cp.ip}:${API_PORT},nodelay`],
    },
    {
      name: 'api-relay-host',
      log: join(paths.logs, 'api-relay.log'),
      argv: ['socat', `TCP-LISTEN:${hostPort},bind=127.0.0.1,fork,reuseaddr,nodelay`, `UNIX-CONNECT:${paths.apiSocket}`],
    },
  ];
}

async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (address && typeof address !== 'string' ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Fails fast, with the end of its log, when a component the lab started has exited. */
async function requireAlive(processes: ProcessRecord[]): Promise<void> {
  for (const p of processes) {
    if (await isRunning(p.pid, p.startTicks)) continue;
    const log = await readFile(p.log, 'utf8').catch(() => '');
    throw failure(`${p.name}${p.node ? ` on ${p.node}` : ''} exited during start; the end of its log (${p.log}):\n${lastLines(log, 15)}`);
  }
}

async function etcdListening(cp: NodeLayout): Promise<Poll<true>> {
  const r = await run(['nsenter', `--net=/run/netns/${cp.netns}`, '--', 'socat', '-u', 'OPEN:/dev/null', 'TCP:127.0.0.1:2379'], { check: false });
  return r.exitCode === 0 ? { done: true, value: true } : { done: false, reason: 'nothing listens on 127.0.0.1:2379 in the control-plane node yet' };
}

async function apiReady(api: LabApi, onServing: () => void): Promise<Poll<true>> {
  const ok = await api.get('/readyz').then(
    () => true,
    (e: unknown) => {
      if (e instanceof ApiError) onServing();
      return false;
    },
  );
  return ok ? { done: true, value: true } : { done: false, reason: '/readyz not ok yet' };
}

async function nodesReady(api: LabApi, count: number): Promise<Poll<true>> {
  const nodes = (await api.get<V1NodeList>(apiPath.nodes)).items;
  const problems = [
    ...(nodes.length < count ? [`${nodes.length}/${count} nodes registered`] : []),
    ...nodes.flatMap((n) => {
      const name = n.metadata!.name!;
      const out: string[] = [];
      if (!isReady(n)) out.push(`${name} not Ready`);
      if (!n.spec?.podCIDR) out.push(`${name} has no podCIDR`);
      if (!n.metadata?.annotations?.['flannel.alpha.coreos.com/backend-data']) out.push(`${name} has no flannel annotation`);
      return out;
    }),
  ];
  return problems.length ? { done: false, reason: problems.join(', ') } : { done: true, value: true };
}

async function podsReady(api: LabApi, probes: number, dns: number): Promise<Poll<true>> {
  const ready = (pods: V1PodList) => pods.items.filter((p) => !p.metadata?.deletionTimestamp && isReady(p)).length;
  const [p, d] = await Promise.all([
    api.get<V1PodList>(`/api/v1/namespaces/firedrill/pods?labelSelector=${encodeURIComponent('app=firedrill-probe')}`),
    api.get<V1PodList>(`/api/v1/namespaces/kube-system/pods?labelSelector=${encodeURIComponent('k8s-app=kube-dns')}`),
  ]);
  const rp = ready(p);
  const rd = ready(d);
  return rp >= probes && rd >= dns ? { done: true, value: true } : { done: false, reason: `${rp}/${probes} probe pods and ${rd}/${dns} CoreDNS pods ready` };
}
