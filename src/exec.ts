import { execa } from 'execa';
import { spawnThroughHelper } from './spawn-helper.js';

/** What one argv run produced. */
export interface CommandResult {
  argv: readonly string[];
  exitCode: number;
  stdout: string;
  stderr: string;
  durationMs: number;
}

export interface RunOptions {
  /** Data written to the command's stdin. */
  input?: string;
  /** Extra environment, merged over the current one unless `cleanEnv`. */
  env?: Record<string, string>;
  /** Start from an empty environment (plus `env`), as a CNI runtime does. */
  cleanEnv?: boolean;
  cwd?: string;
  timeoutMs?: number;
  /** When false, a non-zero exit is returned instead of thrown. Default true. */
  check?: boolean;
  /** Called with each line of stderr as it arrives (progress of long builds). */
  onStderrLine?: (line: string) => void;
  /** Stops the command (SIGTERM) when it fires: a Ctrl-C must not wait for a long command to end. */
  signal?: AbortSignal;
  /**
   * Calls made together for one purpose (one probe run) name the same group: an executor whose every
   * call is a costly round trip (a container exec) may run one group's calls, made in the same turn,
   * in one. A call waits for no call of another group, nor for one without a group.
   */
  group?: string;
}

/** An argv that failed: carries the command, its exit status and the tail of its output. */
export class CommandError extends Error {
  constructor(
    readonly result: CommandResult,
    readonly reason: string,
  ) {
    const tail = lastLines(result.stderr || result.stdout, 12);
    super(`${formatArgv(result.argv)}: ${reason}${tail ? `\n${indent(tail)}` : ''}`);
    this.name = 'CommandError';
  }
}

/**
 * Runs an argv (never a shell string). Throws CommandError when the program
 * cannot start, times out, or (unless `check: false`) exits non-zero.
 */
export async function run(argv: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
  if (!argv[0]) throw new Error('run: empty argv');
  // Streaming and cancelling need the child here; every other command starts in the helper.
  return options.onStderrLine || options.signal ? runHere(argv, options) : runInHelper(argv, options);
}

async function runInHelper(argv: readonly string[], options: RunOptions): Promise<CommandResult> {
  const [file, ...args] = argv as [string, ...string[]];
  const started = performance.now();
  const out = await spawnThroughHelper({
    file,
    args,
    env: options.cleanEnv ? { ...options.env } : { ...process.env, ...options.env },
    ...(options.cwd ? { cwd: options.cwd } : {}),
    ...(options.input !== undefined ? { input: options.input } : {}),
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
  });
  const result: CommandResult = { argv, exitCode: out.exitCode ?? -1, stdout: out.stdout ?? '', stderr: out.stderr ?? '', durationMs: performance.now() - started };
  const reason = out.error ? `could not start (${out.error})` : out.timedOut ? `timed out after ${options.timeoutMs} ms` : out.signal ? `killed by ${out.signal}` : undefined;
  return settle(result, reason, options);
}

async function runHere(argv: readonly string[], options: RunOptions): Promise<CommandResult> {
  const [file, ...args] = argv as [string, ...string[]];
  const started = performance.now();
  const subprocess = execa(file, args, {
    input: options.input,
    env: options.env,
    extendEnv: !options.cleanEnv,
    cwd: options.cwd,
    timeout: options.timeoutMs,
    ...(options.signal ? { cancelSignal: options.signal } : {}),
    reject: false,
    stripFinalNewline: false,
  });
  if (options.onStderrLine) {
    const onLine = options.onStderrLine;
    let pending = '';
    subprocess.stderr?.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) onLine(line);
    });
  }
  const out = await subprocess;
  const result: CommandResult = {
    argv,
    exitCode: out.exitCode ?? -1,
    stdout: String(out.stdout ?? ''),
    stderr: String(out.stderr ?? ''),
    durationMs: performance.now() - started,
  };
  const reason =
    out.failed && out.exitCode === undefined
      ? out.timedOut
        ? `timed out after ${options.timeoutMs} ms`
        : out.isCanceled
          ? 'stopped (interrupted)'
          : out.signal
            ? `killed by ${out.signal}`
            : `could not start (${out.originalMessage ?? out.shortMessage})`
      : undefined;
  return settle(result, reason, options);
}

/** A command that did not end by itself (`reason`) throws; so does a non-zero exit unless `check: false`. */
function settle(result: CommandResult, reason: string | undefined, options: RunOptions): CommandResult {
  if (reason) throw new CommandError(result, reason);
  if (options.check !== false && result.exitCode !== 0) throw new CommandError(result, `exited with status ${result.exitCode}`);
  return result;
}

/** An argv as a person would type it, for messages only (never executed). */
export function formatArgv(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`)).join(' ');
}

export function lastLines(text: string, n: number): string {
  return text.trimEnd().split('\n').slice(-n).join('\n');
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
}
