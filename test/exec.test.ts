import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CommandError, formatArgv, run } from '../src/exec.js';
import { packageInfo } from '../harness/package-info.js';

/** A node process that imports the built `run` (dist: `npm test` builds first) and runs `body`. */
const withRun = (body: string) => {
  const exec = join(packageInfo().root, 'dist', 'src', 'exec.js');
  return spawn(process.execPath, ['--input-type=module', '-e', `import { run } from ${JSON.stringify(exec)};\n${body}`], { stdio: ['ignore', 'pipe', 'pipe'] });
};
const exited = (child: ReturnType<typeof spawn>) => new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));

describe('run', () => {
  it('returns the output of an argv', async () => {
    const r = await run(['printf', '%s|%s', 'a b', '$HOME']);
    expect(r.stdout).toBe('a b|$HOME');
    expect(r.exitCode).toBe(0);
  });

  it('throws a CommandError that names the command, the status and the stderr tail', async () => {
    const error = await run(['sh', '-c', 'echo boom >&2; exit 7']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandError);
    expect((error as CommandError).result.exitCode).toBe(7);
    expect((error as CommandError).message).toContain('exited with status 7');
    expect((error as CommandError).message).toContain('boom');
  });

  it('returns a non-zero exit when asked not to check', async () => {
    const r = await run(['sh', '-c', 'exit 3'], { check: false });
    expect(r.exitCode).toBe(3);
  });

  it('reports a program that cannot start', async () => {
    await expect(run(['/nonexistent/firedrill-tool'])).rejects.toThrow(/could not start/);
  });

  it('kills a command at its timeout', async () => {
    await expect(run(['sleep', '5'], { timeoutMs: 100 })).rejects.toThrow(/timed out after 100 ms/);
  });

  it('starts from an empty environment when asked', async () => {
    const r = await run(['/usr/bin/env'], { cleanEnv: true, env: { ONLY: '1' } });
    expect(r.stdout.trim()).toBe('ONLY=1');
  });

  it('writes its input to the command\'s stdin, and reports a command killed by a signal', async () => {
    expect((await run(['cat'], { input: 'one\ntwo\n' })).stdout).toBe('one\ntwo\n');
    expect((await run(['wc', '-c'], { input: 'x'.repeat(200_000) })).stdout.trim()).toBe('200000');
    await expect(run(['sh', '-c', 'kill -9 $$'])).rejects.toThrow(/killed by SIGKILL/);
  });

  it('lets a process that ran commands exit by itself: the helper that starts them does not hold it', async () => {
    const child = withRun(`const r = await run(['echo', 'ran']); console.log(r.stdout.trim());`);
    let out = '';
    child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    expect(await exited(child)).toBe(0);
    expect(out.trim()).toBe('ran');
  });

  it('takes the commands still running with it when its process is killed', async () => {
    const marker = `${40 + Math.floor(Math.random() * 1000) / 1000}`;
    const child = withRun(`await run(['sleep', '${marker}']);`);
    const sleeping = async () => (await run(['pgrep', '-f', `^sleep ${marker}$`], { check: false })).stdout.trim();
    await expect.poll(sleeping, { timeout: 5000, interval: 50 }).not.toBe('');
    child.kill('SIGKILL');
    await exited(child);
    await expect.poll(sleeping, { timeout: 5000, interval: 100 }).toBe('');
  });

  it('fails the commands of a helper that died, and starts the next ones in a new helper', async () => {
    const sleeping = run(['sleep', '3']); // left to end by itself: the helper is killed before it can stop it
    const helper = (await run(['pgrep', '-P', String(process.pid), '-f', '^firedrill spawn helper'])).stdout.trim();
    process.kill(Number(helper), 'SIGKILL');
    await expect(sleeping).rejects.toThrow(/could not start \(the spawn helper exited \(SIGKILL\)\)/);
    expect((await run(['echo', 'again'])).stdout).toBe('again\n');
  });

  it('streams stderr lines as they come', async () => {
    const lines: string[] = [];
    await run(['sh', '-c', 'echo one >&2; echo two >&2'], { onStderrLine: (l) => lines.push(l) });
    expect(lines).toEqual(['one', 'two']);
  });
});

describe('formatArgv', () => {
  it('quotes only what a shell would need quoted', () => {
    expect(formatArgv(['ip', '-n', 'fd-node-1', 'link', 'show'])).toBe('ip -n fd-node-1 link show');
    expect(formatArgv(['sh', '-c', "echo 'x' y"])).toBe(`sh -c 'echo '\\''x'\\'' y'`);
  });
});
