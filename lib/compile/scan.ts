import { isComment, parseSync, scanTokens, type ScanToken } from './parser';

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
  /** the data psql sends to a `COPY … FROM stdin` (the lines after it, to `\.`): byte spans, blanked */
  copyData: { start: number; end: number; lines: number }[];
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
export function scanCode(source: string, options: { metaCommands?: boolean } = {}): ScannedCode {
  const { text, copyData } = options.metaCommands ? blankCopyData(source) : { text: source, copyData: [] };
  let all: ScanToken[];
  try {
    all = scanTokens(text);
  } catch (e) {
    return { tokens: [], parseText: text, metaCommands: [], copyData, error: (e as Error).message };
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
  if (blank.length === 0) return { tokens, parseText: text, metaCommands, copyData };
  bytes ??= Buffer.from(text, 'utf8');
  const out = Buffer.from(bytes);
  for (const b of blank) {
    for (let i = b.start; i < b.end; i++) if (out[i] !== 0x0a && out[i] !== 0x0d) out[i] = 0x20;
  }
  const parseText = out.toString('utf8');
  if (!rescan) return { tokens, parseText, metaCommands, copyData };
  const again = scanTokens(parseText).filter((t) => !isComment(t));
  return { tokens: again, parseText, metaCommands, copyData };
}

/**
 * psql sends the lines after `COPY … FROM stdin;` to the server as data, up to a line `\.`: they
 * are not SQL (a quote in them would swallow what follows). Each such block is blanked (newlines
 * kept, so positions stay) before the text is scanned; the text after it is scanned again.
 */
function blankCopyData(text: string): { text: string; copyData: ScannedCode['copyData'] } {
  const copyData: ScannedCode['copyData'] = [];
  // Finding a COPY scans the file once more: a file without those four letters has none.
  if (!/copy/i.test(text)) return { text, copyData };
  let bytes: Buffer | undefined;
  let from = 0;
  for (;;) {
    const rest = from === 0 ? text : bytes!.subarray(from).toString('utf8');
    // Data (an unclosed quote, say) may stop the scanner: then the text up to the line where the
    // parser first fails, which is data if a COPY's data comes first; else the error is reported later.
    const tokens = scanned(rest) ?? scanned(rest.slice(0, lineStartOfParseError(rest)));
    if (!tokens) break;
    const end = copyFromStdinEnd(tokens, Buffer.from(rest, 'utf8'));
    if (end < 0) break;
    bytes ??= Buffer.from(text, 'utf8');
    let start = from + end;
    while (start < bytes.length && bytes[start] !== 0x0a) start++;
    start++;
    let stop = start;
    let lines = 0;
    while (stop < bytes.length) {
      let eol = bytes.indexOf(0x0a, stop);
      if (eol < 0) eol = bytes.length;
      const line = bytes.subarray(stop, eol).toString('utf8').replace(/\r$/, '');
      stop = eol;
      if (line === '\\.') break;
      lines++;
      stop++;
    }
    stop = Math.min(stop, bytes.length);
    if (start >= stop) break;
    for (let i = start; i < stop; i++) if (bytes[i] !== 0x0a && bytes[i] !== 0x0d) bytes[i] = 0x20;
    copyData.push({ start, end: stop, lines });
    from = stop;
  }
  return { text: bytes ? bytes.toString('utf8') : text, copyData };
}

function scanned(text: string): ScanToken[] | null {
  try {
    return scanTokens(text).filter((t) => !isComment(t));
  } catch {
    return null;
  }
}

/** The character offset of the start of the line where the parser first fails on `text` (0 if it does not). */
function lineStartOfParseError(text: string): number {
  try {
    // psql meta-commands (a line starting with a backslash) blanked, as the parser refuses them
    parseSync(text.replace(/^[ \t]*\\.*$/gm, (line) => ' '.repeat(line.length)));
    return 0;
  } catch (e) {
    const at = (e as { sqlDetails?: { cursorPosition?: number } }).sqlDetails?.cursorPosition ?? 0;
    return text.lastIndexOf('\n', at) + 1;
  }
}

/** The byte offset after the `;` of the first `COPY … FROM stdin` statement among these tokens, or -1. */
function copyFromStdinEnd(tokens: ScanToken[], bytes: Buffer): number {
  let statementStart = true;
  for (let i = 0; i < tokens.length; i++) {
    if (tokens[i]!.text === '\\') {
      // a psql meta-command runs to the end of its line and leaves the statement as it was
      const eol = bytes.indexOf(0x0a, tokens[i]!.start);
      while (i + 1 < tokens.length && (eol < 0 || tokens[i + 1]!.start < eol)) i++;
      continue;
    }
    const word = tokens[i]!.text.toLowerCase();
    if (statementStart && word === 'copy') {
      let stdin = false;
      for (let j = i + 1; j < tokens.length; j++) {
        const w = tokens[j]!.text.toLowerCase();
        if (w === 'from' && tokens[j + 1]?.text.toLowerCase() === 'stdin') stdin = true;
        if (w === ';') {
          if (stdin) return tokens[j]!.end;
          i = j;
          break;
        }
      }
    }
    statementStart = tokens[i]!.text === ';';
  }
  return -1;
}
