import { execFile } from 'node:child_process';

export interface CommandOutput {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs an argv (never a shell string) for the lab kubelet, with node's execFile rather than
 * src/exec.ts's `run`: execa's import costs every kubelet about 20 MB and 0.15 s of CPU, which
 * is a gigabyte and several seconds of both cores while a 50-node lab starts. Like `run`, the
 * child inherits this process's environment (with the lab's label) plus `env`.
 */
export function runCommand(argv: readonly string[], options: { input?: string; env?: Record<string, string>; timeoutMs?: number; check?: boolean } = {}): Promise<CommandOutput> {
  const [file, ...args] = argv;
  if (!file) return Promise.reject(new Error('runCommand: empty argv'));
  return new Promise((resolve, reject) => {
    const child = execFile(file, args, { env: { ...process.env, ...options.env }, timeout: options.timeoutMs ?? 0, maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' }, (error, stdout, stderr) => {
      const what = argv.join(' ');
      if (error && typeof error.code !== 'number') {
        return reject(new Error(`${what}: ${error.killed ? `timed out after ${options.timeoutMs} ms` : `could not run: ${error.message}`}`));
      }
      const exitCode = error ? Number(error.code) : 0;
      if (exitCode !== 0 && options.check !== false) return reject(new Error(`${what}: exited with status ${exitCode}: ${(stderr || stdout).trim().split('\n').slice(-5).join(' | ')}`));
      resolve({ exitCode, stdout, stderr });
    });
    // A program that exits without reading its stdin (ip) must not crash the kubelet with EPIPE.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(options.input);
  });
}
