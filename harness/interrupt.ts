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
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    process.once(signal, () => {
      received = code;
      process.stderr.write(`\nfiredrill: ${signal}: cleaning up before exit\n`);
      // A second Ctrl-C during cleanup exits at once.
      process.once(signal, () => process.exit(code));
      void Promise.allSettled([...stoppers].map((s) => s())).then(() => process.exit(code));
    });
  }
}
