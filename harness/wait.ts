import { failure } from './errors.js';

export type Poll<T> = { done: true; value: T } | { done: false; reason: string };

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** Throws when waiting longer is pointless (a component died); checked each round. */
  guard?: () => Promise<void>;
  /** Stops the wait (Ctrl-C). */
  signal?: AbortSignal;
}

/** Polls until `poll` is done; on timeout the error says what was awaited and what was last seen. */
export async function waitFor<T>(what: string, poll: () => Promise<Poll<T>>, options: WaitOptions): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let last = 'not checked yet';
  for (;;) {
    options.signal?.throwIfAborted();
    await options.guard?.();
    try {
      const r = await poll();
      if (r.done) return r.value;
      last = r.reason;
    } catch (e) {
      last = (e as Error).message;
    }
    if (Date.now() >= deadline) {
      throw failure(`timed out after ${Math.round(options.timeoutMs / 1000)}s waiting for ${what} (last seen: ${last})`);
    }
    await sleep(options.intervalMs ?? 100);
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
