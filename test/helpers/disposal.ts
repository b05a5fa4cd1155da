import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * What a test file created and must remove when it ends: pools, databases, roles, directories.
 * test/setup/dispose.ts runs these from a top-level afterAll of every test file (a hook registered
 * inside beforeAll or it would never run), last registered first (a pool closes before its
 * database is dropped), server-wide things last.
 */
type Disposer = { what: string; run: () => unknown };
const disposers: Disposer[] = [];
/** Server-wide things (roles) go after everything else: DROP ROLE fails while a database holds its privileges. */
const serverWide: Disposer[] = [];

export function onFileEnd(what: string, run: () => unknown, opts: { serverWide?: boolean } = {}): void {
  (opts.serverWide ? serverWide : disposers).push({ what, run });
}

/** Runs every registered disposer; one failing does not stop the others, and all failures are reported. */
export async function disposeAll(): Promise<void> {
  const failures: string[] = [];
  for (const list of [disposers, serverWide])
    while (list.length > 0) {
      const d = list.pop()!;
      try {
        await d.run();
      } catch (e) {
        failures.push(`${d.what}: ${(e as Error).message}`);
      }
    }
  if (failures.length > 0) throw new Error(`cleanup after the test file failed:\n${failures.join('\n')}`);
}

/** A fresh temporary directory, removed when the test file ends. */
export function testTempDir(prefix = 'procver-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  onFileEnd(`directory ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
