import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { compileSources } from '../../lib/compile/compile';
import { SourceText } from '../../lib/compile/sourceText';
import { testTempDir } from './disposal';

/** Compiles in-memory files (name -> SQL) without touching the disk. */
export function compileFiles(files: Record<string, string>, defaultSchema?: string) {
  return compileSources(
    Object.entries(files).map(([path, text]) => new SourceText(path, text)),
    { defaultSchema },
  );
}

/** Writes files into a fresh temporary directory (removed when the test file ends) and returns it. */
export function writeTree(files: Record<string, string>): string {
  const dir = testTempDir('procver-src-');
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}
