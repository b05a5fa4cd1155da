import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { compileSources } from '../../lib/compile/compile';
import { SourceText } from '../../lib/compile/sourceText';

/** Compiles in-memory files (name -> SQL) without touching the disk. */
export function compileFiles(files: Record<string, string>, defaultSchema?: string) {
  return compileSources(
    Object.entries(files).map(([path, text]) => new SourceText(path, text)),
    { defaultSchema },
  );
}

/** Writes files into a fresh temporary directory and returns it. */
export function writeTree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'procver-src-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}
