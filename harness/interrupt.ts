/**
 * Ctrl-C (SIGINT) and SIGTERM in the middle of a command: the running operation is told to
 * stop (its AbortSignal fires), its own error path removes what it half built, and then the
 * process exits 130/143. Only the CLI installs the signal handlers; a program using the
 * harness as a library keeps its own signal handling.
 */
const stoppers = new Set<() => Promise<void>>();
let installed = false;
let received: number | undefined;

/** The exit code for the signal received (130 for SIGINT, 143 for SIGTERM), if one was. */
export const interruptExitCode = () => received;

export class Interrupted extends Error {
  constructor(signal: string) {
    super(`interrupted by ${signal}`);
    this.name = 'Interrupted';
  }
}

/**
 * Runs `body`; when it fails, or is interrupted (its signal aborts), `onFailure` removes what
 * it half built. The process exits on an interrupt only after `onFailure` has finished.
 */
export async function interruptible<T>(body: (signal: AbortSignal) => Promise<T>, onFailure: (error: unknown) => Promise<void>): Promise<T> {
  const controller = new AbortController();
  const done = body(controller.signal).catch(async (e: unknown) => {
    await onFailure(e);
    throw e;
  });
  const settled = done.then(
    () => undefined,
    () => undefined,
  );
  const stop = async () => {
    controller.abort(new Interrupted('an interrupt'));
    await settled;
  };
  stoppers.add(stop);
  try {
    return await done;
  } finally {
    stoppers.delete(stop);
  }
}

export function installInterruptHandlers(): void {
  if (installed) return;
  installed = true;
  // SIGHUP: the terminal or the ssh session went away, which must not leave a cluster behind either.
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) {
    process.once(signal, () => {
      // A second signal during cleanup exits at once.
      process.once(signal, () => process.exit(code));
      stopEverything(signal, code);
    });
  }
}

/**
 * Stops the running operation as an interrupt does (its half-built state is removed), then exits
 * with `code`. Also for a reader that went away (`firedrill … | head`): the output has nowhere to
 * go, and an operation nobody watches must not go on, nor leave anything behind.
 */
export function stopEverything(why: string, code: number, codeWhenIdle = code): void {
  if (received !== undefined) return;
  received = stoppers.size ? code : codeWhenIdle;
  if (!stoppers.size) process.exit(received);
  process.stderr.write(`\nfiredrill: ${why}: cleaning up before exit\n`);
  void Promise.allSettled([...stoppers].map((s) => s())).then(() => process.exit(code));
}
