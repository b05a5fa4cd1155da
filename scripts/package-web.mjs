// Assembles dist/web/ from `next build`'s standalone output: the small server Next traced (with the
// node_modules it needs), the static assets it serves, and the registry migrations /api/ready
// compares against. `procver dashboard` runs it; the package needs neither Next's sources nor next dev.
import { cp, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';

const out = 'dist/web';
if (!existsSync('.next/standalone/server.js')) throw new Error('no .next/standalone/server.js: run `next build` (output: standalone) first');
await rm(out, { recursive: true, force: true });
// npm pack leaves symbolic links out (Next links its external packages under .next/node_modules): copy their targets.
await cp('.next/standalone', out, { recursive: true, dereference: true });
await cp('.next/static', `${out}/.next/static`, { recursive: true });
if (existsSync('public')) await cp('public', `${out}/public`, { recursive: true });
await cp('drizzle', `${out}/drizzle`, { recursive: true });
// The dashboard serves no optimized images: sharp and its native libvips (~20 MB) stay out.
for (const unused of ['node_modules/sharp', 'node_modules/@img']) await rm(`${out}/${unused}`, { recursive: true, force: true });
// The traced copy of the repository's package.json would name a second "procver" package.
await writeFile(`${out}/package.json`, `${JSON.stringify({ private: true, type: 'module' }, null, 2)}\n`);
console.log(`${out}: standalone dashboard server assembled`);
