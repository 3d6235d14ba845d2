import { duration } from './setup/setup.js';

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export interface Progress {
  /** A line of progress, stamped with the time since the first. */
  say(line: string): void;
  /** Ends the live line: the last line stays, without its spinner. */
  stop(): void;
}

type Writable = Pick<NodeJS.WriteStream, 'write' | 'isTTY' | 'columns'>;

/** A live line only on a terminal, never under CI or with TERM=dumb. */
export const isInteractive = (stream: Writable, env: NodeJS.ProcessEnv = process.env): boolean => Boolean(stream.isTTY) && !env.CI && env.TERM !== 'dumb';

/**
 * Progress lines on a stream, each stamped with the time since the first. Piped or under CI they are
 * plain lines. On a terminal the latest line is live: a spinner and the seconds since it was said,
 * redrawn until the next line. Whatever else is written meanwhile (to this stream or to `also`, e.g.
 * stdout on the same terminal) goes below the latest line and above the spinner.
 */
export function startProgress(stream: Writable, options: { interactive?: boolean; also?: Writable[] } = {}): Progress {
  const started = performance.now();
  const stamp = (line: string) => `[${duration((performance.now() - started) / 1000).padStart(6)}] ${line}`;
  if (!(options.interactive ?? isInteractive(stream))) return { say: (line) => void stream.write(`${stamp(line)}\n`), stop: () => undefined };

  const write = stream.write.bind(stream) as (text: string) => boolean;
  // The latest line; `written` once something else had to go below it.
  let current: { text: string; since: number; written: boolean } | undefined;
  let frame = 0;
  let drawn = false;
  const clear = () => {
    if (drawn) write('\r\x1b[K');
    drawn = false;
  };
  const draw = () => {
    if (!current) return;
    const live = `${FRAMES[frame++ % FRAMES.length]} ${current.written ? '' : `${current.text}  `}+${duration((performance.now() - current.since) / 1000)}`;
    // Cut to the terminal's width: a wrapped line could not be cleared with one \r.
    write(`\r\x1b[K${live.slice(0, Math.max(20, (stream.columns ?? 80) - 1))}`);
    drawn = true;
  };
  const writeCurrent = () => {
    if (current && !current.written) write(`${current.text}\n`);
    if (current) current.written = true;
  };
  const streams = [stream, ...(options.also ?? []).filter((s) => s.isTTY)];
  const originals = streams.map((s) => s.write);
  for (const s of streams) {
    const own = s.write.bind(s) as (...args: unknown[]) => boolean;
    s.write = ((...args: unknown[]) => {
      clear();
      // In the order things happened: the latest line, then this.
      writeCurrent();
      const ok = own(...args);
      draw();
      return ok;
    }) as typeof s.write;
  }
  const timer = setInterval(draw, 100);
  timer.unref();
  const settle = () => {
    clear();
    writeCurrent();
    current = undefined;
  };
  return {
    say(line) {
      settle();
      // Only a line's last row can be live: the rows above it are written as they are.
      const rows = stamp(line).split('\n');
      const last = rows.pop()!;
      for (const row of rows) write(`${row}\n`);
      current = { text: last, since: performance.now(), written: false };
      draw();
    },
    stop() {
      clearInterval(timer);
      settle();
      streams.forEach((s, i) => (s.write = originals[i]!));
    },
  };
}

let shared: Progress | undefined;

/** Says a line of progress on stderr (the CLI's one progress display); ended on exit. */
export function sayProgress(line: string): void {
  if (!shared) {
    const progress = startProgress(process.stderr, { also: [process.stdout] });
    process.once('exit', () => progress.stop());
    shared = progress;
  }
  shared.say(line);
}
