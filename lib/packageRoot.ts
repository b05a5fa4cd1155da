import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/**
 * The directory of procver's own package.json: the repository when run from the sources, the
 * installed package (node_modules/procver) when run from dist/cli/. Files procver ships
 * (drizzle/, dist/web/, examples/shop/) are found from here, never from the current directory.
 */
export function packageRoot(): string {
  if (root) return root;
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'procver') {
      root = dir;
      return dir;
    }
    if (dirname(dir) === dir) throw new Error('cannot find the procver package directory');
  }
}
