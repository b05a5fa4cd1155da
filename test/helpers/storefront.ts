import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { procverProcess, succeeded } from './cli';

/**
 * Building and serving examples/storefront as a frontend pipeline would: `procver compile` of a
 * shop revision into the build, then `node server.ts` with the deployment's identity. Used by the
 * rollback drill (vitest) and the "seen live" browser test (Playwright), so no test runner here.
 */

const repo = process.cwd();
export const STOREFRONT_DIR = join(repo, 'examples/storefront');

export interface StorefrontBuild {
  dir: string;
  manifest: string;
  remove(): void;
}

/**
 * One build of the storefront against one revision of the demo shop: its sources and the procs.ts
 * compiled from that revision (types read from `databaseUrl`). Inside the repository, so that
 * `pg` resolves at run time; git-ignored.
 */
export async function buildStorefront(revisionDir: string, databaseUrl: string, label: string): Promise<StorefrontBuild> {
  mkdirSync(join(STOREFRONT_DIR, '.builds'), { recursive: true });
  const dir = mkdtempSync(join(STOREFRONT_DIR, '.builds', `${label}-`));
  for (const f of ['app.ts', 'server.ts']) copyFileSync(join(STOREFRONT_DIR, f), join(dir, f));
  // A process, as in a frontend's build (and the Playwright worker need not load procver's CLI).
  const args = ['compile', revisionDir, '--out', join(dir, 'generated'), '--database-url', databaseUrl];
  succeeded(args, await procverProcess(args, {}, 120_000));
  return { dir, manifest: join(dir, 'generated/procver.manifest.json'), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface RunningStorefront {
  url: string;
  stop(): Promise<void>;
}

/** Serves a build on a free port with the deployment's identity; resolves once it listens. */
export function startStorefront(build: StorefrontBuild, env: { DATABASE_URL: string; PROCVER_APP: string; PROCVER_DEPLOYMENT: string }): Promise<RunningStorefront> {
  const child = spawn('node', ['--import', 'tsx', join(build.dir, 'server.ts')], {
    cwd: repo,
    env: { ...process.env, ...env, PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => void stop().then(() => reject(new Error(`storefront did not start within 60 s:\n${output}`))), 60_000);
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
      const port = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(output)?.[1];
      if (port) {
        clearTimeout(timer);
        resolve({ url: `http://127.0.0.1:${port}`, stop });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`storefront exited (${code}) before listening:\n${output}`));
    });
  });
}
