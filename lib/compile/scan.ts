import { isComment, scanTokens, type ScanToken } from './parser';

/** A piece of SQL as PostgreSQL's scanner sees it, ready for libpg-query's parser. */
export interface ScannedCode {
  /** every token but comments (and psql meta-commands), UTF-8 byte offsets into the text */
  tokens: ScanToken[];
  /**
   * The text to hand to the parser: comments (and meta-commands) replaced by spaces, byte for
   * byte, newlines kept, so every position the parser reports is a position in the original.
   */
  parseText: string;
  /** psql meta-commands (`\set`, `\i` …): byte spans, each to the end of its line */
  metaCommands: { start: number; end: number }[];
  /** the scanner's error, if it could not scan the text (the parser then reports it) */
  error?: string;
}

const isString = (t: ScanToken | undefined) => t?.tokenName === 'SCONST';

/**
 * Scans `text` once and blanks what PostgreSQL treats as whitespace but libpg-query's parser
 * does not: its scanner returns comments as tokens, so `NOT /* c *\/ LIKE` or `NULLS -- c⏎ FIRST`
 * fail to parse. A `--` comment between two string literals is blanked too and the text scanned
 * again: PostgreSQL continues a string across a newline with only spaces and `--` comments between
 * (`'a' -- c⏎ 'b'` is `'ab'`). A C-style comment there ends the string in PostgreSQL
 * (scan.l: `horiz_whitespace` has no `/* *\/`), so it is left for the parser to refuse as well.
 */
export function scanCode(text: string, options: { metaCommands?: boolean } = {}): ScannedCode {
  let all: ScanToken[];
  try {
    all = scanTokens(text);
  } catch (e) {
    return { tokens: [], parseText: text, metaCommands: [], error: (e as Error).message };
  }
  const blank: { start: number; end: number }[] = [];
  const metaCommands: { start: number; end: number }[] = [];
  const tokens: ScanToken[] = [];
  let rescan = false;
  let bytes: Buffer | undefined;
  const code = all.filter((t) => !isComment(t));
  let c = 0; // index into `code` of the next non-comment token
  for (let i = 0; i < all.length; i++) {
    const t = all[i]!;
    if (options.metaCommands && t.text === '\\') {
      // psql reads a backslash outside a literal as a meta-command running to the end of the line.
      bytes ??= Buffer.from(text, 'utf8');
      let end = t.start;
      while (end < bytes.length && bytes[end] !== 0x0a && bytes[end] !== 0x0d) end++;
      metaCommands.push({ start: t.start, end });
      blank.push({ start: t.start, end });
      while (i + 1 < all.length && all[i + 1]!.start < end) i++;
      while (c < code.length && code[c]!.start < end) c++;
      continue;
    }
    if (!isComment(t)) {
      tokens.push(t);
      c++;
      continue;
    }
    const between = isString(code[c - 1]) && isString(code[c]);
    if (between && t.tokenName === 'C_COMMENT') continue; // PostgreSQL refuses it too
    if (between) rescan = true;
    blank.push({ start: t.start, end: t.end });
  }
  if (blank.length === 0) return { tokens, parseText: text, metaCommands };
  bytes ??= Buffer.from(text, 'utf8');
  const out = Buffer.from(bytes);
  for (const b of blank) {
    for (let i = b.start; i < b.end; i++) if (out[i] !== 0x0a && out[i] !== 0x0d) out[i] = 0x20;
  }
  const parseText = out.toString('utf8');
  if (!rescan) return { tokens, parseText, metaCommands };
  const again = scanTokens(parseText).filter((t) => !isComment(t));
  return { tokens: again, parseText, metaCommands };
}
