import { execFileSync } from 'node:child_process';

/**
 * The package's build outputs, up to date with the sources: the CLI is built by the global setup
 * (test/setup/cli.ts) at the start of every run; the dashboard (next build, a minute or more) is
 * rebuilt only when a source it is built from changed (scripts/web-build.mjs decides, for the
 * browser tests too).
 */
export function ensureBuilt(): void {
  execFileSync('node', ['scripts/web-build.mjs', '--package'], { stdio: 'inherit' });
}
