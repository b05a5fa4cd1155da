// Builds the dashboard only when what it is built from changed since the last build: `next build`
// takes a minute, and `npm test` needs it twice (the package test assembles dist/web, the browser
// tests serve .next). One list of sources for both.
//   node scripts/web-build.mjs            .next (next build) for the browser tests
//   node scripts/web-build.mjs --package  dist/web (npm run build:web) for the package
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Everything `next build` reads from the repository. */
const SOURCES = [
  'app',
  'components',
  'lib',
  'public',
  'drizzle',
  'proxy.ts',
  'instrumentation.ts',
  'next.config.ts',
  'postcss.config.mjs',
  'tsconfig.json',
  'package.json',
  'package-lock.json',
];

function newest(paths) {
  let max = 0;
  for (const p of paths) {
    if (!existsSync(p)) continue;
    const s = statSync(p);
    if (s.isFile()) max = Math.max(max, s.mtimeMs);
    else for (const f of readdirSync(p, { recursive: true })) max = Math.max(max, statSync(join(p, f)).mtimeMs);
  }
  return max;
}

const packaged = process.argv.includes('--package');
const output = packaged ? 'dist/web/server.js' : '.next/BUILD_ID';
const built = existsSync(output) ? statSync(output).mtimeMs : 0;
if (built >= newest(SOURCES)) {
  console.log(`${output} is newer than every source: no build needed`);
} else {
  const [command, args] = packaged ? ['npm', ['run', '--silent', 'build:web']] : ['npx', ['next', 'build']];
  execFileSync(command, args, { stdio: 'inherit', env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' } });
}
