import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const procverBin = join(process.cwd(), 'bin/procver.mjs');

/** Runs the procver CLI as a user would, returning its exit code and output. */
export async function procver(args: string[], env: Record<string, string> = {}) {
  try {
    const r = await run('node', [procverBin, ...args], { env: { ...process.env, PROCVER_ACTOR: 'cli-test', ...env }, timeout: 60_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}
