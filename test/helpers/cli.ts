import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { format } from 'node:util';
import { runCli } from '../../lib/cli/run';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export const procverBin = join(process.cwd(), 'bin/procver.mjs');
const baseEnv = { PROCVER_ACTOR: 'cli-test' };

/**
 * Runs a procver command inside the test process (the same runCli the binary calls) with `env`
 * set for its duration, capturing what it prints. Test files run their tests one at a time, so
 * borrowing process.env and the output streams is safe.
 */
export async function procver(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  const saved = { env: { ...process.env }, log: console.log, error: console.error, warn: console.warn };
  const stdoutWrite = process.stdout.write;
  const stderrWrite = process.stderr.write;
  Object.assign(process.env, baseEnv, env);
  console.log = (...a: unknown[]) => void out.push(`${format(...a)}\n`);
  console.error = console.warn = (...a: unknown[]) => void err.push(`${format(...a)}\n`);
  process.stdout.write = ((chunk: string | Uint8Array) => out.push(String(chunk)) > 0) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => err.push(String(chunk)) > 0) as typeof process.stderr.write;
  try {
    const code = await runCli(args);
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    process.stdout.write = stdoutWrite;
    process.stderr.write = stderrWrite;
    Object.assign(console, { log: saved.log, error: saved.error, warn: saved.warn });
    for (const k of Object.keys(process.env)) if (!(k in saved.env)) delete process.env[k];
    Object.assign(process.env, saved.env);
  }
}

/** The real binary in its own process: for what only a process shows (stdin, signals, tsx start-up). */
export async function procverProcess(args: string[], env: Record<string, string> = {}, timeoutMs = 60_000): Promise<CliResult> {
  try {
    const r = await promisify(execFile)('node', [procverBin, ...args], { env: { ...process.env, ...baseEnv, ...env }, timeout: timeoutMs });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

/** What a command printed on stdout, when it must succeed; otherwise an error carrying all of its output. */
export function succeeded(args: string[], r: CliResult): string {
  if (r.code !== 0) throw new Error(`procver ${args.join(' ')} exited ${r.code}:\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

/** procver in-process, failing with its output unless it exits 0; returns what it printed on stdout. */
export async function procverOk(args: string[], env: Record<string, string> = {}): Promise<string> {
  return succeeded(args, await procver(args, env));
}
