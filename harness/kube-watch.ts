import { type Kube } from '../src/kube/client.js';
import { failure } from './errors.js';
import { type Poll } from './wait.js';

type Named = { metadata?: { name?: string; namespace?: string } };

export interface WatchUntilOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  /** labelSelector / fieldSelector of the watch. */
  query?: Record<string, string>;
}

/**
 * Watches a collection (e.g. `/api/v1/nodes`) until `judge`, given every object seen so far,
 * says it is done. A watch without a resourceVersion starts with an ADDED event per existing
 * object, so no separate list is needed; a watch the server closes is opened again the same way.
 * On timeout the error names what was awaited and what `judge` last said.
 */
export async function watchUntil<T extends Named, V>(kube: Kube, what: string, path: string, judge: (objects: T[]) => Poll<V>, options: WatchUntilOptions): Promise<V> {
  const watch = new kube.lib.Watch(kube.config);
  let last = 'nothing seen yet';
  let controller: AbortController | undefined;
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    return await new Promise<V>((resolve, reject) => {
      const objects = new Map<string, T>();
      let settled = false;
      const settle = (fn: () => void) => {
        if (settled) return;
        settled = true;
        fn();
      };
      const evaluate = () => {
        try {
          const verdict = judge([...objects.values()]);
          if (verdict.done) settle(() => resolve(verdict.value));
          else last = verdict.reason;
        } catch (e) {
          settle(() => reject(e));
        }
      };
      const open = () => {
        if (settled) return;
        objects.clear();
        watch
          .watch(
            path,
            { ...options.query },
            (type, obj: T) => {
              const key = `${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`;
              if (type === 'DELETED') objects.delete(key);
              else if (type === 'ADDED' || type === 'MODIFIED') objects.set(key, obj);
              evaluate();
            },
            (err) => {
              if (settled) return;
              if (err && (err as { name?: string }).name !== 'AbortError') last = `watch ${path} ended: ${(err as Error).message ?? String(err)}`;
              setTimeout(open, err ? 500 : 0);
            },
          )
          .then((c) => {
            controller = c;
            if (settled) c.abort();
          })
          .catch((e: Error) => {
            last = `cannot watch ${path}: ${e.message}`;
            setTimeout(open, 500);
          });
      };
      timer = setTimeout(() => settle(() => reject(failure(`timed out after ${Math.round(options.timeoutMs / 1000)}s waiting for ${what} (last seen: ${last})`))), options.timeoutMs);
      onAbort = () => settle(() => reject(options.signal!.reason));
      if (options.signal?.aborted) return onAbort();
      options.signal?.addEventListener('abort', onAbort, { once: true });
      evaluate();
      open();
    });
  } finally {
    clearTimeout(timer);
    if (onAbort) options.signal?.removeEventListener('abort', onAbort);
    controller?.abort();
  }
}
