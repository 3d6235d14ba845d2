import { run } from '../../src/exec.js';

/**
 * Runs a binary's version command and checks its output contains `expect`.
 * Returns undefined when it does, else what is wrong. CNI plugins print their
 * version and exit non-zero when run without CNI_COMMAND, so the exit status
 * is not judged, only the output.
 */
export async function verifyVersion(file: string, args: readonly string[], expect: string): Promise<string | undefined> {
  let output: string;
  try {
    const r = await run([file, ...args], { check: false, timeoutMs: 20_000, cleanEnv: true, env: { PATH: '/usr/bin:/bin' } });
    output = `${r.stdout}\n${r.stderr}`;
  } catch (e) {
    return `${file} does not run: ${(e as Error).message}`;
  }
  if (output.includes(expect)) return undefined;
  const said = output.trim().split('\n')[0] ?? '';
  return `${file} reports "${said.slice(0, 120)}", expected "${expect}"`;
}
