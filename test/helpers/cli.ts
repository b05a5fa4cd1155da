import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const bin = join(process.cwd(), 'bin/procver.mjs');

/** Runs the procver CLI as a user would (a child process); never throws on a non-zero exit. */
export async function procver(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run('node', [bin, ...args], { env: { ...process.env, PROCVER_ACTOR: 'cli-test', ...env }, timeout: 120_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

/** procver, failing with its output unless it exits 0. */
export async function procverOk(args: string[], env: Record<string, string> = {}): Promise<string> {
  const r = await procver(args, env);
  if (r.code !== 0) throw new Error(`procver ${args.join(' ')} exited ${r.code}:\n${r.stdout}${r.stderr}`);
  return r.stdout;
}
