/**
 * Cleanups that must run when the user presses Ctrl-C (or the process gets SIGTERM)
 * in the middle of a command: remove what was half built, then exit 130/143.
 * Only the CLI installs the signal handlers; a program using the harness as a
 * library keeps its own signal handling.
 */
const cleanups = new Set<() => Promise<void>>();
let installed = false;

export function onInterrupt(cleanup: () => Promise<void>): () => void {
  cleanups.add(cleanup);
  return () => cleanups.delete(cleanup);
}

/** Runs `body` with `cleanup` registered for an interrupt; the caller still cleans up on error. */
export async function withInterruptCleanup<T>(cleanup: () => Promise<void>, body: () => Promise<T>): Promise<T> {
  const remove = onInterrupt(cleanup);
  try {
    return await body();
  } finally {
    remove();
  }
}

export function installInterruptHandlers(): void {
  if (installed) return;
  installed = true;
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    process.once(signal, () => {
      process.stderr.write(`\nfiredrill: ${signal}: cleaning up before exit\n`);
      // A second Ctrl-C during cleanup exits at once.
      process.once(signal, () => process.exit(code));
      void Promise.allSettled([...cleanups].map((c) => c())).then(() => process.exit(code));
    });
  }
}
