import { execFileSync } from 'node:child_process';

/**
 * Builds dist/cli once per run (about a second), so the tests that spawn `bin/procver.mjs` run the
 * compiled CLI as users do, instead of compiling the sources through tsx in every process.
 */
export function setup() {
  execFileSync(process.execPath, ['scripts/build-cli.mjs'], { stdio: 'inherit' });
}
