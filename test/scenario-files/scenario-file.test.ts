import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeScenarioContext } from '../support/scenario-context.js';
import { parse } from 'yaml';
import { type DnsResult, type PingResult, type ProbeReport } from '../../src/probes/types.js';
import { scenarios } from '../../scenarios/index.js';
import { scenarioJsonSchema } from '../../harness/scenario-files/format.js';
import { readScenarioFile, scenarioFromFile } from '../../harness/scenario-files/load.js';
import { closest } from '../../harness/suggest.js';
import { formatValidationStats, validationStats } from '../../harness/validate/repeat.js';
import { type Validation } from '../../harness/validate/validate.js';
import { packageInfo } from '../../harness/package-info.js';
import { firedrill } from '../support/lab.js';

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'firedrill-scenario-files-'));
});
afterAll(() => rm(scratch, { recursive: true, force: true }));

async function file(text: string, name = 'scenario.yaml') {
  const path = join(scratch, name);
  await writeFile(path, text);
  return path;
}
const errorOf = (p: Promise<unknown>) => p.then(() => { throw new Error('expected an error'); }, (e: Error) => e.message);

const VALID = 'id: mine\ntitle: mine\ninject:\n  - kind: exec\n    node: faulted\n    argv: [sysctl, -w, net.ipv4.ip_forward=0]\nsymptom:\n  seen: target-cut-off\ndetects: [ip-forward-off]\n';

/** A three-node cluster whose faulted node answers what the variables read. */
const context = () => fakeScenarioContext('sf', { 'cat /run/flannel/subnet.env': 'FLANNEL_SUBNET=10.244.1.1/24\nFLANNEL_MTU=1450\n' });

describe('scenario files: one format, YAML, checked without a cluster', () => {
  it('the committed JSON Schema is the one generated from the zod definition', async () => {
    // On purpose after a format change: npm run schema
    await expect(`${JSON.stringify(scenarioJsonSchema(), null, 2)}\n`).toMatchFileSnapshot('../../schema/scenario.schema.json');
  });

  it.each([
    ['a YAML syntax error', 'id: x\ninject: [\n', /scenario\.yaml:3:1: scenario .* is not valid YAML/],
    ['a missing field', 'id: x\ntitle: x\ninject:\n  - kind: exec\n    node: faulted\n    argv: ["true"]\ndetects: [cni0-missing]\n', /scenario\.yaml:1:1: symptom: Invalid input: expected object/],
    ['an unknown symptom', VALID.replace('seen: target-cut-off', 'seen: slow'), /scenario\.yaml:8:9: symptom\.seen: Invalid option: expected one of "target-cut-off"\|/],
    ['an unknown finding kind', VALID.replace('[ip-forward-off]', '[ip-forwrd-off]'), /scenario\.yaml:9:11: detects\.0: Invalid option: expected one of "pod-unreachable"/],
    ['an unknown field', `${VALID}severity: high\n`, /scenario\.yaml:10:11: \(root\): Unrecognized key: "severity"/],
    ['a bad id', VALID.replace('id: mine', 'id: My Scenario'), /scenario\.yaml:1:5: id: lowercase letters, digits and dashes/],
  ])('%s: file, line, column and field', async (_what, text, message) => {
    expect(await errorOf(readScenarioFile(await file(text)))).toMatch(message);
  });

  it.each([
    ['a step the drill cannot apply', VALID.replace('inject:\n', 'inject:\n  - kind: drain\n    node: faulted\n'), /scenario\.yaml:4:5: inject\.0: a drain step cannot be part of a fault/],
    ['an expectation', VALID.replace('    node: faulted\n', '    node: faulted\n    expect: { exit: 0 }\n'), /inject\.0: expect is for runbooks/],
    ['an unknown variable', VALID.replace('net.ipv4.ip_forward=0', '"{{nodeip}}"'), /scenario\.yaml:6:24: inject\.0\.argv\.2: unknown variable \{\{nodeip\}\}/],
    ['a recorded value', VALID.replace('net.ipv4.ip_forward=0', '"{{fault.mac}}"'), /inject\.0: \{\{fault\.mac\}\}: a scenario file records no values/],
    ['a step aimed at the host', VALID.replace('[sysctl, -w, net.ipv4.ip_forward=0]', '[nsenter, -t, "1", -n, ip, link]'), /inject\.0\.argv: nsenter -t 1 leaves the node's namespace/],
    ['a network step into the host', `${VALID}restore:\n  - kind: network-exec\n    argv: [ip, netns, exec, x, "true"]\n`, /scenario\.yaml:12:11: restore\.0\.argv: ip netns exec leaves/],
  ])('%s is refused with its place', async (_what, text, message) => {
    expect(await errorOf(readScenarioFile(await file(text)))).toMatch(message);
  });

  it('resolves its steps on the cluster as a runbook does: selectors, variables, network steps', async () => {
    const path = await file(`${VALID}restore:\n  - kind: exec\n    node: others\n    argv: [ip, link, set, flannel.1, mtu, "{{mtu}}"]\n  - kind: network-exec\n    argv: [iptables, -D, FORWARD, -d, "{{node_ip}}", -m, comment, --comment, "firedrill:{{cluster}}", -j, DROP]\n`);
    const scenario = scenarioFromFile((await readScenarioFile(path)).file);
    const ctx = context();
    expect(scenario.defaultTarget(ctx.nodes)).toBe('sf-worker');
    expect(await scenario.inject(ctx)).toEqual([{ kind: 'exec', node: 'sf-worker', argv: ['sysctl', '-w', 'net.ipv4.ip_forward=0'], why: 'inject step 1' }]);
    expect((await scenario.restore(ctx)).map((s) => ('node' in s ? `${s.node}: ` : 'network: ') + ('argv' in s ? s.argv.join(' ') : ''))).toEqual([
      'sf-control-plane: ip link set flannel.1 mtu 1450',
      'sf-worker2: ip link set flannel.1 mtu 1450',
      'network: iptables -D FORWARD -d 10.99.0.3 -m comment --comment firedrill:sf -j DROP',
    ]);
  });

  it('the shipped flannel-mtu example loads, and editors checking it against the committed schema accept it', async () => {
    const path = join(packageInfo().root, 'examples', 'scenarios', 'flannel-mtu.yaml');
    const { file: parsed, lint } = await readScenarioFile(path);
    expect(lint.warnings).toEqual([]);
    const validate = new Ajv2020({ strict: false }).compile(JSON.parse(await readFile(join(packageInfo().root, 'schema', 'scenario.schema.json'), 'utf8')) as object);
    const text = await readFile(path, 'utf8');
    expect(validate(parse(text)), JSON.stringify(validate.errors)).toBe(true);
    expect(validate(parse(text.replace('seen: large-packets-fail', 'seen: large')))).toBe(false);
    expect(parsed).toMatchObject({ id: 'flannel-mtu', symptom: { seen: 'large-packets-fail' }, detects: ['vxlan-device-misconfigured'] });
  });
});

/** Probe reports that tell the symptoms and recoveries apart. */
function report(failing: { from: string; to: string }[], dnsFailingOn: string[]): ProbeReport {
  const nodes = ['sf-control-plane', 'sf-worker', 'sf-worker2'];
  const ping: PingResult[] = nodes.flatMap((from) =>
    nodes.filter((to) => to !== from).map((to) => ({ kind: 'ping', source: `p-${from}`, sourceNode: from, target: `p-${to}`, targetNode: to, targetIp: '10.244.0.2', targetKind: 'pod', ok: !failing.some((f) => f.from === from && f.to === to) })),
  );
  const dns: DnsResult[] = nodes.map((n) => ({ kind: 'dns', source: `p-${n}`, sourceNode: n, server: '10.96.0.10', name: 'kubernetes', ok: !dnsFailingOn.includes(n), rttMs: 1 }));
  return { at: '', durationMs: 0, ping, dns };
}
const SAMPLES: [string, ProbeReport][] = [
  ['all green', report([], [])],
  ['the target cut off', report([{ from: 'sf-worker2', to: 'sf-worker' }, { from: 'sf-worker', to: 'sf-worker2' }], [])],
  ['DNS failing elsewhere', report([], ['sf-control-plane', 'sf-worker2'])],
  ['DNS failing on the target only', report([], ['sf-worker'])],
  ['the others cut off from each other', report([{ from: 'sf-control-plane', to: 'sf-worker2' }], [])],
];

describe('firedrill scenarios show: the six built-ins as scenario files', () => {
  it.each(scenarios.map((s) => [s.id, s] as const))('%s: printed, and as far as it loads, it is the built-in', { timeout: 30_000 }, async (id, builtin) => {
    const r = await firedrill(['scenarios', 'show', id]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^# yaml-language-server: \$schema=\/.*\/schema\/scenario\.schema\.json$/m);
    if (id === 'wrong-vtep-mac') {
      // Its injection reads the Node's annotation through the API; its restore uses the MAC the injection chose.
      expect(r.stdout).toContain('#   inject: its steps are built from what it reads through the API of a live cluster');
      expect(r.stdout).toContain('#   restore: it uses {{fault.wrongMac}}, a value the injection recorded, and a file records none');
      expect(await errorOf(readScenarioFile(await file(r.stdout, `${id}.yaml`)))).toMatch(/inject: Invalid input: expected array/);
      return;
    }
    expect(r.stdout).not.toContain('cannot be expressed');
    const scenario = scenarioFromFile((await readScenarioFile(await file(r.stdout, `${id}.yaml`))).file);
    const ctx = context();
    expect(scenario.defaultTarget(ctx.nodes)).toBe(builtin.defaultTarget(ctx.nodes));
    const plain = (steps: unknown[]) => JSON.parse(JSON.stringify(steps)) as unknown;
    expect(plain(await scenario.inject(ctx))).toEqual(plain(await builtin.inject(ctx)));
    expect(plain(await scenario.restore(ctx))).toEqual(plain(await builtin.restore(ctx)));
    expect(scenario.detects).toEqual(builtin.detects);
    for (const [what, sample] of SAMPLES) {
      expect([what, await scenario.symptom.seen(sample, ctx)]).toEqual([what, await builtin.symptom.seen(sample, ctx)]);
      const builtinRecovered = builtin.recovered ? await builtin.recovered(sample, ctx) : sample.ping.every((p) => p.ok) && sample.dns.every((d) => d.ok);
      expect([what, await scenario.recovered!(sample, ctx)]).toEqual([what, builtinRecovered]);
    }
  });

  it('an unknown scenario exits 2 and lists them', async () => {
    const r = await firedrill(['scenarios', 'show', 'nope']);
    expect([r.exitCode, r.stderr]).toEqual([2, expect.stringContaining('unknown scenario "nope"')]);
  });
});

describe('did you mean', () => {
  it.each([
    ['manul', 'manual'],
    ['naiv', 'naive'],
    ['flannel-restrt', 'flannel-restart'],
    ['libary', 'library'],
    ['xyz', undefined],
    ['manual', undefined],
  ])('%s -> %s', (word, meant) => {
    expect(closest(word, ['auto', 'manual', 'naive', 'flannel-restart', 'library', 'none'])).toBe(meant);
  });

  it('run --runbook manul suggests manual before touching a cluster; an unknown --repair names a YAML runbook file', async () => {
    const r = await firedrill(['run', 'ip-forward-off', '--runbook', 'manul', '--name', 'synone']);
    expect([r.exitCode, r.stderr]).toEqual([2, expect.stringContaining('unknown runbook "manul"')]);
    expect(r.stderr).toContain('what to do: did you mean --runbook manual?');
    const repair = await firedrill(['run', 'ip-forward-off', '--repair', 'libary', '--name', 'synone']);
    expect(repair.exitCode).toBe(2);
    expect(repair.stderr).toContain('did you mean --repair library?');
    expect(repair.stderr).toContain('or a YAML runbook file');
  });
});

describe('run --scenario-file errors', () => {
  it('a malformed scenario file is refused with its line before any cluster is made', async () => {
    const path = await file('id: x\ntitle: x\ninject:\n  - kind: exec\n    node: faulted\n', 'broken.yaml');
    const r = await firedrill(['run', '--scenario-file', path, '--name', 'synone']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(`${path}:4:5: inject.0.argv: Invalid input: expected array`);
  });
});

describe('validate --repeat: what the validations add up to', () => {
  const validation = (ok: boolean, afterFaultMs: number | undefined, extra: Partial<Validation> = {}): Validation => ({
    scenario: 'ip-forward-off',
    runbook: 'r.yaml',
    target: 'w',
    backend: 'lab',
    cluster: 'sy',
    injected: [],
    symptom: { seen: true, description: '' },
    steps: [{ index: 0, call: 'w: sysctl', why: '', ok: true, attempts: 1, durationMs: 40 }],
    service: { recovered: afterFaultMs !== undefined, ...(afterFaultMs !== undefined ? { afterFaultMs } : {}), failing: [] },
    unrepaired: [],
    collateral: [],
    ok,
    ...extra,
  });

  it('passed every time, never, or sometimes (flaky, with each failing repeat and why)', () => {
    expect(validationStats([validation(true, 900), validation(true, 1100)])).toMatchObject({ status: 'passed', passed: 2, recoveryMs: { n: 2, p50: 900, p95: 1100, max: 1100 } });
    const flaky = validationStats([
      validation(true, 1000),
      validation(false, undefined),
      validation(false, 1200, { collateral: [{ what: 'node-left-cordoned', node: 'w', detail: 'node w left cordoned (unschedulable)' }] }),
    ]);
    expect(flaky).toMatchObject({ runs: 3, passed: 1, status: 'flaky', recoveryMs: { n: 2 }, runbookMs: { n: 3, p50: 40 } });
    expect(flaky.failing).toEqual([
      { repeat: 2, why: 'service not recovered' },
      { repeat: 3, why: 'collateral damage: node w left cordoned (unschedulable)' },
    ]);
    expect(formatValidationStats(flaky)).toBe(
      [
        'over 3 validations: FLAKY, passed 1/3',
        '  service back after the fault (p50 / p95 / max): 1000 ms / 1200 ms / 1200 ms (in 2 of 3)',
        '  runbook run time (p50 / p95 / max): 40 ms / 40 ms / 40 ms',
        '  #2 failed: service not recovered',
        '  #3 failed: collateral damage: node w left cordoned (unschedulable)',
      ].join('\n'),
    );
    expect(validationStats([validation(false, undefined, { error: 'the fault did not show\nmore' })])).toMatchObject({ status: 'failed', failing: [{ repeat: 1, why: 'error: the fault did not show' }] });
  });
});
