#!/usr/bin/env node
// The procver CLI. The package ships it compiled (dist/cli/, `npm run build:cli`). Inside the
// repository, where lib/ is the truth, the compiled copy is used only while it is newer than every
// source file; otherwise the sources run through tsx (a dev dependency), so a stale build never runs.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const compiled = new URL('../dist/cli/main.mjs', import.meta.url);
const sources = fileURLToPath(new URL('../lib/', import.meta.url));

function compiledIsFresh() {
  if (!existsSync(compiled)) return false;
  const built = statSync(compiled).mtimeMs;
  for (const file of readdirSync(sources, { recursive: true })) {
    if (statSync(sources + file).mtimeMs > built) return false;
  }
  return true;
}

if (!existsSync(sources) || compiledIsFresh()) {
  await import(compiled.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../lib/cli/main.ts');
}
