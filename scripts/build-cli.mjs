// Builds the CLI into dist/cli/: one ES module per entry and shared chunks (esbuild, code splitting),
// so `procver help` loads a few kilobytes and each command loads only what it imports.
// npm packages stay external: they are the package's dependencies, and libpg-query finds its WASM
// file next to its own JavaScript in node_modules.
import { build } from 'esbuild';
import { existsSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';

// Built beside dist/cli and swapped in, so a CLI process started meanwhile never finds half a build.
const fresh = `dist/cli.build-${process.pid}`;
const old = `dist/cli.old-${process.pid}`;
await rm(fresh, { recursive: true, force: true });
const result = await build({
  entryPoints: { main: 'lib/cli/main.ts' },
  outdir: fresh,
  outExtension: { '.js': '.mjs' },
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  // Flat: every chunk sits in dist/cli/, two levels below the package root like lib/<area>/ (see migrationsFolder).
  chunkNames: '[name]-[hash]',
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
});
if (existsSync('dist/cli')) await rename('dist/cli', old);
await rename(fresh, 'dist/cli');
await rm(old, { recursive: true, force: true });
const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
console.log(`dist/cli: ${Object.keys(result.metafile.outputs).length} file(s), ${(bytes / 1024).toFixed(0)} KiB`);
