import { accessSync, constants, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Executor } from './access.js';
import { CommandError, type CommandResult, type RunOptions } from './exec.js';

/** Separates the argvs of a batch on its command line. */
const NEXT = '--firedrill-next-argv--';

/**
 * The batch runner: a fixed POSIX sh program (never built from input) that takes a directory and
 * the argvs as its own arguments, argvs separated by NEXT, and runs them side by side, leaving per
 * argv `<n>.out`, `<n>.err` and `<n>.rc` in the directory. Given `-` for the directory, it makes
 * one, prints per argv a line `index exit-status`, then its stdout and its stderr base64-encoded on
 * one line each, and removes it.
 */
const BATCH_SCRIPT = `
t=$1; shift
if [ "$t" = - ]; then t=$(mktemp -d) || exit 125; encode=1; fi
n=0
while [ $# -gt 0 ]; do
  (
    started=
    for a do
      [ -n "$started" ] || { set --; started=1; }
      [ "$a" = "${NEXT}" ] && break
      set -- "$@" "$a"
    done
    "$@" >"$t/$n.out" 2>"$t/$n.err" </dev/null
    echo $? >"$t/$n.rc"
  ) &
  while [ $# -gt 0 ]; do a=$1; shift; [ "$a" = "${NEXT}" ] && break; done
  n=$((n + 1))
done
wait
[ -n "$encode" ] || exit 0
i=0
while [ $i -lt $n ]; do
  echo "$i $(cat "$t/$i.rc")"
  base64 -w0 <"$t/$i.out"; echo
  base64 -w0 <"$t/$i.err"; echo
  i=$((i + 1))
done
rm -rf "$t"
`;

/** The one argv that runs `argvs` side by side through the batch runner, results left in `dir` (or printed, for `-`). */
export function batchArgv(argvs: readonly (readonly string[])[], dir = '-'): string[] {
  return ['sh', '-c', BATCH_SCRIPT, 'firedrill-batch', dir, ...argvs.flatMap((a, i) => (i ? [NEXT, ...a] : [...a]))];
}

/** Reads the batch runner's printed output back into one result per argv. */
export function parseBatch(argvs: readonly (readonly string[])[], stdout: string, durationMs: number): CommandResult[] {
  const lines = stdout.split('\n');
  return argvs.map((argv, i) => {
    const at = lines.findIndex((l) => l.startsWith(`${i} `));
    if (at < 0) throw new Error(`batch output has no result for ${argv.join(' ')}`);
    const decode = (line: string | undefined) => Buffer.from(line ?? '', 'base64').toString('utf8');
    return { argv, exitCode: Number(lines[at]!.split(' ')[1]), stdout: decode(lines[at + 1]), stderr: decode(lines[at + 2]), durationMs };
  });
}

type Exec = (argv: readonly string[], options: RunOptions) => Promise<CommandResult>;

/**
 * `batch` for an executor whose every exec is costly (a container exec): the argvs run side by side
 * in ONE exec of the batch runner, results printed back. Same contract as `run`: a CommandError for
 * the first argv that failed (unless check: false), or for a timeout of the whole.
 */
export function batchOver(exec: Exec, where: string): NonNullable<Executor['batch']> {
  return async (argvs, options = {}) => {
    const r = await exec(batchArgv(argvs), { ...options, check: true });
    return checked(parseBatch(argvs, r.stdout, r.durationMs), options, where);
  };
}

/**
 * Where batch results are left: in memory (/dev/shm) where the system has it writable. On a disk
 * file system, creating and deleting three files per argv cost more than the commands: on ext4,
 * finding a free inode among those just deleted took 13% of the machine's CPU during a doctor of
 * 50 lab nodes.
 */
export const BATCH_RESULTS_ROOT = (() => {
  try {
    accessSync('/dev/shm', constants.W_OK);
    return '/dev/shm';
  } catch {
    return tmpdir();
  }
})();

/** A batch's result directory is `<BATCH_RESULTS_ROOT>/firedrill-batch-<pid>-XXXXXX`: prune tells by the pid what a killed process left. */
export const BATCH_DIR_PREFIX = 'firedrill-batch-';

/**
 * `batch` for an executor whose commands see this process's files (a lab node: only its network
 * namespace differs): one exec of the batch runner, its results read from a directory here instead
 * of encoded and printed, which costs three processes per argv. The files are few, small and in
 * memory: handled at once, they cost less than a round trip to the thread pool each.
 */
export function batchSharingFiles(exec: Exec, where: string): NonNullable<Executor['batch']> {
  return async (argvs, options = {}) => {
    const dir = mkdtempSync(join(BATCH_RESULTS_ROOT, `${BATCH_DIR_PREFIX}${process.pid}-`));
    try {
      const r = await exec(batchArgv(argvs, dir), { ...options, check: true });
      const read = (i: number, ext: string) => {
        try {
          return readFileSync(join(dir, `${i}.${ext}`), 'utf8');
        } catch {
          return undefined;
        }
      };
      const results = argvs.map((argv, i): CommandResult => {
        const rc = read(i, 'rc');
        if (rc === undefined) throw new Error(`batch ${where} left no result for ${argv.join(' ')}`);
        return { argv, exitCode: Number(rc), stdout: read(i, 'out') ?? '', stderr: read(i, 'err') ?? '', durationMs: r.durationMs };
      });
      return checked(results, options, where);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

function checked(results: CommandResult[], options: RunOptions, where: string): CommandResult[] {
  const failed = options.check === false ? undefined : results.find((x) => x.exitCode !== 0);
  if (failed) throw new CommandError(failed, `exited with status ${failed.exitCode} (${where})`);
  return results;
}
