import { describe, expect, it, vi } from 'vitest';
import { isInteractive, startProgress } from '../harness/progress.js';

const fakeStream = (isTTY: boolean) => {
  const s = { isTTY, columns: 60, out: '', write(chunk: string) { s.out += chunk; return true; } };
  return s;
};
/** What a terminal shows: each \r\x1b[K wipes the line being written. */
const screen = (out: string) => out.split('\n').map((l) => l.split('\r\x1b[K').at(-1)!).join('\n');

describe('progress lines', () => {
  it('piped or under CI: plain lines stamped with the time since the first', () => {
    vi.useFakeTimers({ toFake: ['performance'] });
    try {
      const s = fakeStream(false);
      const p = startProgress(s);
      p.say('creating 3 nodes');
      vi.advanceTimersByTime(12_400);
      p.say('waiting for kube-apiserver');
      vi.advanceTimersByTime(47_200);
      p.say('ok   steady-state');
      vi.advanceTimersByTime(180_000);
      p.say('ok   restore');
      p.stop();
      expect(s.out).toBe('[  0.0s] creating 3 nodes\n[   12s] waiting for kube-apiserver\n[ 1m00s] ok   steady-state\n[ 4m00s] ok   restore\n');
    } finally {
      vi.useRealTimers();
    }
  });

  it('on a terminal: the latest line is live with a spinner and its seconds, then stays plain; other output follows it, in order', () => {
    vi.useFakeTimers({ toFake: ['performance', 'setInterval', 'clearInterval'] });
    try {
      const s = fakeStream(true);
      // stdout on the same terminal: what it writes lands on the same screen.
      const stdout = { isTTY: true, columns: 60, write: (chunk: string) => s.write(chunk) };
      const p = startProgress(s, { interactive: true, also: [stdout] });
      p.say('creating 3 nodes');
      vi.advanceTimersByTime(2_500);
      expect(screen(s.out)).toMatch(/^[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] \[  0\.0s\] creating 3 nodes {2}\+2\.5s$/);
      s.write('warning: low inotify limit\n');
      stdout.write('a table on stdout\n');
      vi.advanceTimersByTime(100);
      expect(screen(s.out).split('\n').at(-1)).toMatch(/^[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] \+2\.6s$/);
      p.say('waiting for kube-apiserver');
      vi.advanceTimersByTime(1_000);
      p.say('  error: exit 1\n    etcd: data dir is corrupt');
      p.stop();
      expect(screen(s.out)).toBe('[  0.0s] creating 3 nodes\nwarning: low inotify limit\na table on stdout\n[  2.6s] waiting for kube-apiserver\n[  3.6s]   error: exit 1\n    etcd: data dir is corrupt\n');
      // After stop, writes are the streams' own again: no live line is redrawn after them.
      stdout.write('after\n');
      expect(s.out.endsWith('corrupt\nafter\n')).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });

  it('a live line only on a terminal, not under CI', () => {
    expect(isInteractive({ isTTY: true, columns: 80, write: () => true }, {})).toBe(true);
    expect(isInteractive({ isTTY: true, columns: 80, write: () => true }, { CI: 'true' })).toBe(false);
    expect(isInteractive({ isTTY: false, columns: 80, write: () => true }, {})).toBe(false);
  });
});
