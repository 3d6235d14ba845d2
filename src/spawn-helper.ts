import { type ChildProcess, spawn } from 'node:child_process';

/**
 * Node's spawn forks this process, and the event loop waits while the kernel copies its page
 * tables: measured at 2.8 ms per spawn at 54 MB of RSS and 18.8 ms at 331 MB, which a doctor on 50
 * nodes reaches, so its 150 commands held the event loop for about 2.4 s. Commands are therefore
 * started by a small long-lived helper process (a fixed program, never built from input), whose
 * forks are cheap and do not block this process. It exits when this process does (its IPC channel
 * closes), killing what it still runs.
 */
const HELPER = `
process.title = 'firedrill spawn helper';
const { spawn } = require('node:child_process');
const running = new Map();
process.on('message', (m) => {
  let replied = false;
  const reply = (r) => {
    if (replied) return;
    replied = true;
    running.delete(m.id);
    process.send({ id: m.id, ...r });
  };
  let child;
  try {
    child = spawn(m.file, m.args, { env: m.env, cwd: m.cwd, stdio: [m.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
  } catch (e) {
    return reply({ error: e.message });
  }
  running.set(m.id, child);
  const out = [], err = [];
  child.stdout.on('data', (c) => out.push(c));
  child.stderr.on('data', (c) => err.push(c));
  let timedOut = false, killer;
  const timer = m.timeoutMs ? setTimeout(() => {
    timedOut = true;
    child.kill('SIGTERM');
    killer = setTimeout(() => child.kill('SIGKILL'), 5000);
  }, m.timeoutMs) : undefined;
  child.on('error', (e) => { if (child.pid === undefined) reply({ error: e.message }); });
  child.on('close', (code, signal) => {
    clearTimeout(timer);
    clearTimeout(killer);
    reply({ exitCode: code, signal, timedOut, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
  });
  if (m.input !== undefined) {
    child.stdin.on('error', () => {});
    child.stdin.end(m.input);
  }
});
// Ctrl-C reaches the whole process group: the commands take it themselves, and this process
// decides what comes next (its cleanup still runs commands here).
process.on('SIGINT', () => {});
process.on('disconnect', () => {
  for (const c of running.values()) c.kill('SIGKILL');
  process.exit(0);
});
`;

export interface HelperRequest {
  file: string;
  args: readonly string[];
  env: NodeJS.ProcessEnv;
  cwd?: string;
  input?: string;
  timeoutMs?: number;
}

/** How a command ended: `error` when it could not start (or the helper died under it). */
export interface HelperReply {
  exitCode?: number | null;
  signal?: NodeJS.Signals | null;
  timedOut?: boolean;
  error?: string;
  stdout?: string;
  stderr?: string;
}

/** The running helper and the replies it owes; a helper that died fails only its own. */
interface Helper {
  child: ChildProcess;
  pending: Map<number, (reply: HelperReply) => void>;
}

let helper: Helper | undefined;
let nextId = 0;

function startHelper(): Helper {
  const child = spawn(process.execPath, ['-e', HELPER], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const self: Helper = { child, pending: new Map() };
  child.on('message', (reply: HelperReply & { id: number }) => {
    const resolve = self.pending.get(reply.id);
    self.pending.delete(reply.id);
    holdWhilePending(self);
    resolve?.(reply);
  });
  const failAll = (why: string) => {
    if (helper === self) helper = undefined;
    const gone = [...self.pending.values()];
    self.pending.clear();
    for (const resolve of gone) resolve({ error: `the spawn helper ${why}` });
  };
  child.on('exit', (code, signal) => failAll(`exited (${signal ?? `status ${code}`})`));
  child.on('error', (e) => failAll(`failed: ${e.message}`));
  child.unref();
  return self;
}

/** The helper keeps this process alive only while it runs something for it. */
function holdWhilePending(h: Helper) {
  if (h.pending.size) h.child.channel?.ref();
  else h.child.channel?.unref();
}

/** Runs one command through the helper. Never rejects: a command that could not start comes back with `error`. */
export function spawnThroughHelper(request: HelperRequest): Promise<HelperReply> {
  const h = (helper ??= startHelper());
  const id = nextId++;
  const reply = new Promise<HelperReply>((resolve) => h.pending.set(id, resolve));
  holdWhilePending(h);
  h.child.send({ id, ...request });
  return reply;
}
