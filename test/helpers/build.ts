import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Newest modification time among files under the given paths (recursively). */
function newest(paths: string[]): number {
  let max = 0;
  for (const p of paths) {
    if (!existsSync(p)) continue;
    const s = statSync(p);
    if (s.isFile()) max = Math.max(max, s.mtimeMs);
    else for (const f of readdirSync(p, { recursive: true }) as string[]) max = Math.max(max, statSync(join(p, f)).mtimeMs);
  }
  return max;
}

/**
 * The package's build outputs, up to date with the sources: the CLI is built by the global setup
 * (test/setup/cli.ts) at the start of every run; the dashboard (next build, a minute or more) is
 * rebuilt here only when a source it is built from changed.
 */
export function ensureBuilt(): void {
  const built = existsSync('dist/web/server.js') ? statSync('dist/web/server.js').mtimeMs : 0;
  if (built < newest(['app', 'components', 'lib', 'proxy.ts', 'next.config.ts', 'drizzle', 'package.json'])) {
    execFileSync('npm', ['run', '--silent', 'build:web'], { stdio: 'inherit', env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' } });
  }
}
