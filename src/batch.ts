import { type Executor } from './access.js';
import { CommandError, type CommandResult, type RunOptions } from './exec.js';

/** Separates the argvs of a batch on its command line. */
const NEXT = '--firedrill-next-argv--';

/**
 * The batch runner: a fixed POSIX sh program (never built from input) that takes the argvs as its
 * own arguments, separated by NEXT, runs them side by side, and prints per argv a line
 * `index exit-status`, then its stdout and its stderr base64-encoded on one line each.
 */
const BATCH_SCRIPT = `
t=$(mktemp -d) || exit 125
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
i=0
while [ $i -lt $n ]; do
  echo "$i $(cat "$t/$i.rc")"
  base64 -w0 <"$t/$i.out"; echo
  base64 -w0 <"$t/$i.err"; echo
  i=$((i + 1))
done
rm -rf "$t"
`;

/** The one argv that runs `argvs` side by side through the batch runner. */
export function batchArgv(argvs: readonly (readonly string[])[]): string[] {
  return ['sh', '-c', BATCH_SCRIPT, 'firedrill-batch', ...argvs.flatMap((a, i) => (i ? [NEXT, ...a] : [...a]))];
}

/** Reads the batch runner's output back into one result per argv. */
export function parseBatch(argvs: readonly (readonly string[])[], stdout: string, durationMs: number): CommandResult[] {
  const lines = stdout.split('\n');
  return argvs.map((argv, i) => {
    const at = lines.findIndex((l) => l.startsWith(`${i} `));
    if (at < 0) throw new Error(`batch output has no result for ${argv.join(' ')}`);
    const decode = (line: string | undefined) => Buffer.from(line ?? '', 'base64').toString('utf8');
    return { argv, exitCode: Number(lines[at]!.split(' ')[1]), stdout: decode(lines[at + 1]), stderr: decode(lines[at + 2]), durationMs };
  });
}

/**
 * `batch` for an executor whose every exec is costly (a process per namespace entered, a container
 * exec): the argvs run side by side in ONE exec of the batch runner. Same contract as `run`: a
 * CommandError for the first argv that failed (unless check: false), or for a timeout of the whole.
 */
export function batchOver(exec: (argv: readonly string[], options: RunOptions) => Promise<CommandResult>, where: string): NonNullable<Executor['batch']> {
  return async (argvs, options = {}) => {
    const r = await exec(batchArgv(argvs), { ...options, check: true });
    const results = parseBatch(argvs, r.stdout, r.durationMs);
    const failed = options.check === false ? undefined : results.find((x) => x.exitCode !== 0);
    if (failed) throw new CommandError(failed, `exited with status ${failed.exitCode} (${where})`);
    return results;
  };
}
