import { describe, expect, it } from 'vitest';
import { CommandError, formatArgv, run } from '../src/exec.js';

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
