import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { batchOver, batchSharingFiles, parseBatch } from '../../src/batch.js';
import { CommandError, run } from '../../src/exec.js';

describe('the batch runner', () => {
  it('reads one result per argv back, in order, output byte for byte', () => {
    const b64 = (t: string) => Buffer.from(t).toString('base64');
    const out = ['1 3', b64(''), b64('boom\n'), '0 0', b64('a b\né\u0001\n'), b64(''), ''].join('\n');
    const [first, second] = parseBatch([['echo', 'a b'], ['sh', '-c', 'exit 3']], out, 12);
    expect(first).toEqual({ argv: ['echo', 'a b'], exitCode: 0, stdout: 'a b\né\u0001\n', stderr: '', durationMs: 12 });
    expect(second).toMatchObject({ exitCode: 3, stderr: 'boom\n' });
    expect(() => parseBatch([['true'], ['false']], '0 0\n\n\n', 1)).toThrow(/no result for false/);
  });

  it.each([
    ['printed back', batchOver],
    ['left in files here', batchSharingFiles],
  ])('runs the argvs side by side in one exec, arguments untouched by any shell, results %s', async (_, batching) => {
    const execs: string[][] = [];
    const batch = batching((argv, options) => {
      execs.push([...argv]);
      return run(argv, options);
    }, 'here');
    const tricky = ['printf', '%s|', 'a b', '$HOME', '"q"', "'s'", '--firedrill-next', '*'];
    const dir = await mkdtemp(join(tmpdir(), 'firedrill-batch-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const flag = join(dir, 'flag');
    // The first waits (up to 20 s) for a file the third creates: one after the other, it would fail.
    const waiter = ['sh', '-c', 'i=0; while [ ! -e "$1" ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i+1)); done; [ -e "$1" ]', 'waiter', flag];
    const results = await batch([waiter, tricky, ['touch', flag], ['sh', '-c', 'echo err >&2; exit 4']], { check: false });
    expect(execs).toHaveLength(1);
    expect(results.map((r) => r.exitCode), 'side by side, not one after the other').toEqual([0, 0, 0, 4]);
    expect(results[1]!.stdout).toBe('a b|$HOME|"q"|\'s\'|--firedrill-next|*|');
    expect(results[3]!.stderr).toBe('err\n');
    await expect(batch([['true'], ['false']])).rejects.toThrow(CommandError);
  });
});
