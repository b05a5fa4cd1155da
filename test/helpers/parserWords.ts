import { readFileSync } from 'node:fs';

/** Every lower-case word in libpg-query's WASM: its keyword list is among them. */
export function parserWords(): string[] {
  const wasm = readFileSync(new URL('../../node_modules/libpg-query/wasm/libpg-query.wasm', import.meta.url));
  const words = new Set<string>();
  let run = '';
  for (const byte of wasm) {
    const ch = String.fromCharCode(byte);
    if (/[a-z_]/.test(ch)) run += ch;
    else {
      if (run.length >= 2) words.add(run);
      run = '';
    }
  }
  return [...words].sort();
}
