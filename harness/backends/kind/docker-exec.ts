import { PassThrough } from 'node:stream';
import type Dockerode from 'dockerode';
import { type Executor } from '../../../src/access.js';
import { CommandError, type CommandResult, type RunOptions } from '../../../src/exec.js';
import { batchOver } from '../../../src/batch.js';
import { dockerClient } from '../../docker/client.js';

/**
 * Argvs in a container through the Docker API (exec create, start, inspect): measured at about
 * 63 ms per exec against 107 ms for the docker CLI, whose own start-up is the difference, and most
 * of the 63 ms is runc's. So calls of one group (RunOptions.group: a probe matrix's fpings and digs
 * of the pods on this node) made in the same turn of the event loop share one exec of the batch
 * runner; a batch ends with its slowest call, so calls of other groups never join it (a detection's
 * short pings once waited a second there for another probe's DNS timeout). Same contract as
 * src/exec.ts `run`: CommandError on a non-zero exit (unless check: false) or a timeout.
 */
export function containerExecutor(container: string): Executor {
  return {
    batch: (argvs, options: RunOptions = {}) => batchExec(container, argvs, options),
    exec: (argv, options: RunOptions = {}) =>
      options.group === undefined || options.env || options.input !== undefined ? dockerExec(container, argv, options) : coalesced(container, options.group, argv, options),
  };
}

interface Pending {
  argv: readonly string[];
  options: RunOptions;
  resolve: (r: CommandResult) => void;
  reject: (e: unknown) => void;
}

const queues = new Map<string, Pending[]>();

function coalesced(container: string, group: string, argv: readonly string[], options: RunOptions): Promise<CommandResult> {
  const key = JSON.stringify([container, group]);
  return new Promise((resolve, reject) => {
    let queue = queues.get(key);
    if (!queue) {
      queue = [];
      queues.set(key, queue);
      setImmediate(() => void flush(key, container));
    }
    queue.push({ argv, options, resolve, reject });
  });
}

async function flush(key: string, container: string): Promise<void> {
  const queue = queues.get(key) ?? [];
  queues.delete(key);
  if (queue.length === 1) {
    const [only] = queue;
    return dockerExec(container, only!.argv, only!.options).then(only!.resolve, only!.reject);
  }
  const timeoutMs = Math.max(0, ...queue.map((p) => p.options.timeoutMs ?? 0));
  try {
    const results = await batchExec(container, queue.map((p) => p.argv), { check: false, ...(timeoutMs ? { timeoutMs } : {}) });
    queue.forEach((p, i) => {
      const r = results[i]!;
      if (p.options.check !== false && r.exitCode !== 0) p.reject(new CommandError(r, `exited with status ${r.exitCode} (in container ${container})`));
      else p.resolve(r);
    });
  } catch (e) {
    for (const p of queue) p.reject(e);
  }
}

/** One exec of the batch runner: the argvs side by side, one result each. */
const batchExec = (container: string, argvs: readonly (readonly string[])[], options: RunOptions): Promise<CommandResult[]> =>
  batchOver((argv, o) => dockerExec(container, argv, o), `in container ${container}`)(argvs, options);

async function dockerExec(container: string, argv: readonly string[], options: RunOptions): Promise<CommandResult> {
  const docker = await dockerClient();
  const started = performance.now();
  const execution =
    options.input === undefined ? docker.container.exec(docker.container.getById(container), [...argv], options.env ? { env: options.env } : {}) : execWithInput(docker.container.dockerode, container, argv, options.input, options.env);
  let timer: NodeJS.Timeout | undefined;
  const timeout = options.timeoutMs
    ? new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), options.timeoutMs);
      })
    : undefined;
  const out = await (timeout ? Promise.race([execution, timeout]) : execution).finally(() => clearTimeout(timer));
  const durationMs = performance.now() - started;
  if (out === 'timeout') throw new CommandError({ argv, exitCode: -1, stdout: '', stderr: '', durationMs }, `timed out after ${options.timeoutMs} ms (in container ${container})`);
  const result: CommandResult = { argv, exitCode: out.exitCode, stdout: out.stdout, stderr: out.stderr, durationMs };
  if (options.check !== false && result.exitCode !== 0) throw new CommandError(result, `exited with status ${result.exitCode} (in container ${container})`);
  return result;
}

/**
 * An exec that reads `input` on its stdin, as `docker exec -i` does: testcontainers' exec attaches
 * no stdin, so through its dockerode, the connection hijacked and its write side closed once the
 * input is sent (the command sees end of file).
 */
async function execWithInput(dockerode: Dockerode, container: string, argv: readonly string[], input: string, env: Record<string, string> | undefined) {
  const exec = await dockerode.getContainer(container).exec({
    Cmd: [...argv],
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
    ...(env ? { Env: Object.entries(env).map(([k, v]) => `${k}=${v}`) } : {}),
  });
  const stream = await exec.start({ hijack: true, stdin: true });
  const collect = () => {
    const sink = new PassThrough();
    const chunks: Buffer[] = [];
    sink.on('data', (c: Buffer) => chunks.push(c));
    return { sink, text: () => Buffer.concat(chunks).toString() };
  };
  const [stdout, stderr] = [collect(), collect()];
  dockerode.modem.demuxStream(stream, stdout.sink, stderr.sink);
  await new Promise<void>((resolve, reject) => {
    stream.on('end', resolve);
    stream.on('error', reject);
    stream.end(input);
  });
  const { ExitCode } = await exec.inspect();
  return { exitCode: ExitCode ?? -1, stdout: stdout.text(), stderr: stderr.text() };
}
