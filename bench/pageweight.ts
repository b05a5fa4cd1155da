/**
 * The JavaScript each dashboard page loads, from the production build's manifests: the framework
 * chunks every page shares plus the chunks of the page's own segments (layout, page, loading,
 * error, not-found), raw and gzip-compressed. Run after `npx next build`:
 *   npx tsx bench/pageweight.ts
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';

const NEXT = join(process.cwd(), '.next');

function manifests(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...manifests(p));
    else if (name === 'page_client-reference-manifest.js') out.push(p);
  }
  return out;
}

function main() {
  if (!existsSync(join(NEXT, 'build-manifest.json'))) {
    console.error('no production build: run `npx next build` first');
    process.exit(2);
  }
  const build = JSON.parse(readFileSync(join(NEXT, 'build-manifest.json'), 'utf8')) as { rootMainFiles: string[] };
  const size = new Map<string, { raw: number; gzip: number }>();
  const measure = (file: string) => {
    if (!size.has(file)) {
      const body = readFileSync(join(NEXT, file));
      size.set(file, { raw: body.length, gzip: gzipSync(body, { level: 9 }).length });
    }
    return size.get(file)!;
  };
  const g = globalThis as { __RSC_MANIFEST?: Record<string, { entryJSFiles: Record<string, string[]> }> };
  const rows: { route: string; files: number; raw: number; gzip: number; own: number }[] = [];
  const shared = new Set(build.rootMainFiles);
  for (const file of manifests(join(NEXT, 'server/app'))) {
    g.__RSC_MANIFEST = {};
    new Function(readFileSync(file, 'utf8'))();
    const [key, m] = Object.entries(g.__RSC_MANIFEST)[0]!;
    if (key.startsWith('/_')) continue;
    const files = new Set(build.rootMainFiles);
    for (const list of Object.values(m.entryJSFiles)) for (const f of list) files.add(f);
    const sizes = [...files].map(measure);
    const own = [...files].filter((f) => !shared.has(f)).map(measure);
    rows.push({
      route: '/' + relative(join(NEXT, 'server/app'), file).replace(/\/?page_client-reference-manifest\.js$/, ''),
      files: files.size,
      raw: sizes.reduce((a, s) => a + s.raw, 0),
      gzip: sizes.reduce((a, s) => a + s.gzip, 0),
      own: own.reduce((a, s) => a + s.gzip, 0),
    });
  }
  rows.sort((a, b) => a.route.localeCompare(b.route));
  const kb = (n: number) => `${(n / 1024).toFixed(1)} kB`;
  console.log('| page | JS files | raw | gzip | gzip beyond the shared framework chunks |');
  console.log('| --- | --- | --- | --- | --- |');
  for (const r of rows) console.log(`| ${r.route === '/' ? '/ (overview)' : r.route} | ${r.files} | ${kb(r.raw)} | ${kb(r.gzip)} | ${kb(r.own)} |`);
}

main();
