import { KEYWORD, keywordKind } from '../keywords';

/** A token as libpg-query's scanner reports it (the fields procver reads); offsets are UTF-8 bytes. */
export interface Token {
  start: number;
  end: number;
  text: string;
  /** the scanner's name for the token class: IDENT, SCONST, SQL_COMMENT … (UNKNOWN for keywords and most punctuation) */
  tokenName: string;
  /** a KEYWORD category, 0 for a non-keyword */
  keywordKind: number;
}

/**
 * PostgreSQL's lexical rules (src/backend/parser/scan.l, PostgreSQL 18) for the text procver
 * compiles, in plain JavaScript: libpg-query's scanner answers in JSON that costs more to make and
 * read than parsing the same text, and the compiler scans every file and every body.
 *
 * It returns null whenever the text holds something it does not follow exactly (a string
 * continued on the next line, Unicode escapes, an unterminated literal or comment, junk after a
 * number, an over-long operator …), and the caller then asks libpg-query's scanner, whose answer
 * (or error) is authoritative. test/compile/lexer.test.ts compares the two on every fixture, every
 * keyword and generated input: wherever this answers, it answers what the scanner answers. One
 * exception: a control character in a string or comment (a form feed, an escape sequence) is
 * scanned as PostgreSQL scans it, where libpg-query writes JSON it cannot read back and fails.
 */
export function lex(text: string): Token[] | null {
  if (text === '') return null; // the scanner refuses empty input: keep its error
  if (text.includes('\0')) return null; // the scanner reads a C string: it stops at NUL
  return new Lexer(text).run();
}

/** One pass over one text (a class, so that a call makes no closures). */
class Lexer {
  private readonly ascii: boolean;
  private readonly bytes: Buffer | null;
  private readonly n: number;
  private readonly tokens: Token[] = [];

  constructor(private readonly text: string) {
    this.ascii = Buffer.byteLength(text, 'utf8') === text.length;
    this.bytes = this.ascii ? null : Buffer.from(text, 'utf8');
    this.n = this.ascii ? text.length : this.bytes!.length;
  }

  private at(i: number): number {
    return this.ascii ? this.text.charCodeAt(i) : this.bytes![i]!;
  }

  private byte(i: number): number {
    return i < this.n ? this.at(i) : -1;
  }

  private slice(s: number, e: number): string {
    return this.ascii ? this.text.substring(s, e) : this.bytes!.toString('utf8', s, e);
  }

  private isAsciiRun(s: number, e: number): boolean {
    if (this.ascii) return true;
    for (let k = s; k < e; k++) if (this.at(k) >= 0x80) return false;
    return true;
  }

  private push(start: number, end: number, tokenName: string, kind: number = KEYWORD.none, text = this.slice(start, end)): void {
    this.tokens.push({ start, end, text, tokenName, keywordKind: kind });
  }

  run(): Token[] | null {
    const n = this.n;
    let i = 0;
    while (i < n) {
      const c = this.at(i);
      if (isSpace(c)) {
        i++;
        continue;
      }
      const start = i;
      const c1 = this.byte(i + 1);
      if (c === MINUS && c1 === MINUS) {
        while (i < n && !isNewline(this.at(i))) i++;
        this.push(start, i, 'SQL_COMMENT');
        continue;
      }
      if (c === SLASH && c1 === STAR) {
        let depth = 1;
        i += 2;
        while (depth > 0) {
          if (i + 1 >= n) return null; // unterminated
          if (this.at(i) === SLASH && this.at(i + 1) === STAR) {
            depth++;
            i += 2;
          } else if (this.at(i) === STAR && this.at(i + 1) === SLASH) {
            depth--;
            i += 2;
          } else i++;
        }
        this.push(start, i, 'C_COMMENT');
        continue;
      }
      if (c === QUOTE) {
        i = this.quoted(start + 1, 'plain');
        if (i < 0) return null;
        this.push(start, i, 'SCONST');
        continue;
      }
      if (isIdentStart(c)) {
        const lower = c | 0x20;
        if (c1 === QUOTE && (lower === LOWER_E || lower === LOWER_B || lower === LOWER_X)) {
          // E'…' (backslash escapes), B'…' and X'…' (bit strings, checked by the parser, not here)
          i = this.quoted(start + 2, lower === LOWER_E ? 'escapes' : 'bits');
          if (i < 0) return null;
          this.push(start, i, lower === LOWER_E ? 'SCONST' : 'UNKNOWN');
          continue;
        }
        if (c1 === QUOTE && lower === LOWER_N) {
          // N'…': the scanner returns the keyword NCHAR, then the string
          i++;
          this.push(start, i, 'UNKNOWN', KEYWORD.colName);
          continue;
        }
        if (c1 === AMPERSAND && lower === LOWER_U) return null; // U&'…' and U&"…": Unicode escapes
        i++;
        while (i < n && isIdentCont(this.at(i))) i++;
        const word = this.slice(start, i);
        const kind = i - start <= LONGEST_KEYWORD && this.isAsciiRun(start, i) ? keywordKind(word.toLowerCase()) : KEYWORD.none;
        this.push(start, i, kind === KEYWORD.none ? 'IDENT' : 'UNKNOWN', kind, word);
        continue;
      }
      if (c === DQUOTE) {
        i++;
        for (;;) {
          if (i >= n) return null;
          if (this.at(i) === DQUOTE) {
            if (this.byte(i + 1) !== DQUOTE) break;
            i++;
          }
          i++;
        }
        i++;
        if (i - start === 2) return null; // "": a zero-length identifier is an error
        this.push(start, i, 'IDENT');
        continue;
      }
      if (c === DOLLAR) {
        if (isDigit(c1)) {
          i++;
          while (i < n && isDigit(this.at(i))) i++;
          if (i < n && isIdentCont(this.at(i))) return null; // $1abc: trailing junk
          if (i - start > 10 || BigInt(this.slice(start + 1, i)) > INT4_MAX) return null; // parameter number too large
          this.push(start, i, 'PARAM');
          continue;
        }
        let tagEnd = i + 1;
        if (isDollarTagStart(c1)) {
          tagEnd++;
          while (tagEnd < n && isDollarTagCont(this.at(tagEnd))) tagEnd++;
        }
        if (this.byte(tagEnd) === DOLLAR) {
          const delimiter = this.slice(start, tagEnd + 1);
          const close = this.ascii ? this.text.indexOf(delimiter, tagEnd + 1) : this.bytes!.indexOf(delimiter, tagEnd + 1, 'utf8');
          if (close < 0) return null; // unterminated
          i = close + (tagEnd + 1 - start);
          this.push(start, i, 'SCONST');
          continue;
        }
        i++;
        this.push(start, i, 'UNKNOWN'); // a lone $
        continue;
      }
      if (isDigit(c) || (c === DOT && isDigit(c1))) {
        i = this.number(start);
        if (i < 0) return null;
        continue;
      }
      if (c === DOT) {
        i += c1 === DOT ? 2 : 1;
        this.push(start, i, 'UNKNOWN');
        continue;
      }
      if (c === COLON) {
        i += c1 === COLON || c1 === EQUALS ? 2 : 1;
        this.push(start, i, c1 === COLON ? 'TYPECAST' : 'UNKNOWN');
        continue;
      }
      if (isOpChar(c)) {
        i = this.operator(start);
        if (i < 0) return null;
        continue;
      }
      i++;
      this.push(start, i, charTokenName(this.slice(start, i))); // , ( ) [ ] ; and any other single character
    }
    return this.tokens;
  }

  /**
   * The end of a quoted literal whose content starts at `from` ('' is a quote; in E'' a backslash
   * escapes the next byte; B'' and X'' hold no quote), or -1 where the scanner would do more than
   * end it: continue it on a later line (`'a'⏎'b'` is one string) or read a Unicode escape.
   */
  private quoted(from: number, form: 'plain' | 'escapes' | 'bits'): number {
    const n = this.n;
    let j = from;
    for (;;) {
      if (j >= n) return -1;
      const ch = this.at(j);
      if (form === 'escapes' && ch === BACKSLASH) {
        const next = this.byte(j + 1);
        // \u, \U: Unicode escapes; an octal or \x escape of NUL or of a byte above 0x7f (not UTF-8 alone)
        if (next === LOWER_U || next === UPPER_U || next < 0 || !this.isPlainByteEscape(j + 1)) return -1;
        j += 2;
        continue;
      }
      if (ch === QUOTE) {
        if (this.byte(j + 1) === QUOTE) {
          if (form === 'bits') return -1; // B'1''0': the scanner ends the literal at the first quote
          j += 2;
          continue;
        }
        j++;
        break;
      }
      j++;
    }
    // After the closing quote: whitespace and -- comments, then a quote after a newline continues it.
    let k = j;
    let newline = false;
    while (k < n) {
      const ch = this.at(k);
      if (isSpace(ch)) {
        if (isNewline(ch)) newline = true;
        k++;
      } else if (ch === MINUS && this.byte(k + 1) === MINUS) {
        while (k < n && !isNewline(this.at(k))) k++;
      } else break;
    }
    if (newline && this.byte(k) === QUOTE) return -1;
    return j;
  }

  /** True unless the escape after a backslash (at `at`) is octal (\101) or hex (\x41) for NUL or a byte above 0x7f. */
  private isPlainByteEscape(at: number): boolean {
    let digits = '';
    let radix = 8;
    if ((this.byte(at) | 0x20) === LOWER_X) {
      radix = 16;
      for (let k = at + 1; k < at + 3 && isRadixDigit(this.byte(k), 16); k++) digits += String.fromCharCode(this.at(k));
    } else {
      for (let k = at; k < at + 3 && isRadixDigit(this.byte(k), 8); k++) digits += String.fromCharCode(this.at(k));
    }
    if (digits === '') return true; // \x without hex digits is an x; any other escaped character is itself
    const value = Number.parseInt(digits, radix);
    return value > 0 && value < 0x80;
  }

  /** Integer (decimal, 0x, 0o, 0b, with _ separators) or numeric literal starting at `s`; its end, or -1 for junk. */
  private number(s: number): number {
    let j = s;
    const c0 = this.at(j);
    const radix = c0 === ZERO ? radixOf(this.byte(j + 1)) : 10;
    if (radix !== 10) {
      j = this.digits(j + 2, radix);
      return j < 0 ? -1 : this.finish(s, j, radix, false, false);
    }
    let fraction = false;
    if (c0 !== DOT) j = this.digits(j, 10);
    if (this.byte(j) === DOT && this.byte(j + 1) !== DOT) {
      fraction = true;
      j++;
      if (isDigit(this.byte(j))) j = this.digits(j, 10);
    }
    if ((this.byte(j) | 0x20) === LOWER_E) {
      let k = j + 1;
      if (this.byte(k) === PLUS || this.byte(k) === MINUS) k++;
      if (!isDigit(this.byte(k))) return -1; // 1e, 1e+: trailing junk
      j = this.digits(k, 10);
      return this.finish(s, j, 10, true, true);
    }
    return this.finish(s, j, 10, fraction, false);
  }

  /** The end of (_?digit)+ in the radix from `j` (a decimal integer starts with a digit), or -1 for none. */
  private digits(from: number, radix: number): number {
    let j = from;
    if (radix === 10) {
      if (!isDigit(this.byte(j))) return -1;
      j++;
    }
    for (;;) {
      if (isRadixDigit(this.byte(j), radix)) j++;
      else if (this.byte(j) === UNDERSCORE && isRadixDigit(this.byte(j + 1), radix)) j += 2;
      else return j > from ? j : -1;
    }
  }

  /**
   * The token, unless scan.l's junk rules match longer: a digit run followed by an identifier
   * (`123abc`; `0x1F$` is `0` and `x1F$`, `1e5$` is `1` and `e5$`, identifiers that may hold digits
   * and `$`), which the scanner reports as trailing junk.
   */
  private finish(s: number, e: number, radix: number, fraction: boolean, exponent: boolean): number {
    const junk = radix !== 10 || exponent ? isIdentCont : isIdentStart;
    if (e < this.n && junk(this.at(e))) return -1;
    if (fraction) {
      this.push(s, e, 'FCONST');
      return e;
    }
    // An integer beyond int4 is a numeric constant (FCONST), as the scanner decides.
    const digits = this.slice(radix === 10 ? s : s + 2, e).replaceAll('_', '');
    const value = radix === 10 ? BigInt(digits) : BigInt(`0${'xob'[[16, 8, 2].indexOf(radix)]}${digits}`);
    this.push(s, e, value <= INT4_MAX ? 'ICONST' : 'FCONST');
    return e;
  }

  /** scan.l's {operator} rule: a run of operator characters, cut at a comment and trailing +/-. */
  private operator(s: number): number {
    let e = s;
    while (e < this.n && isOpChar(this.at(e))) e++;
    let len = e - s;
    for (let k = s; k + 1 < e; k++) {
      if ((this.at(k) === SLASH && this.at(k + 1) === STAR) || (this.at(k) === MINUS && this.at(k + 1) === MINUS)) {
        len = k - s;
        break;
      }
    }
    const last = this.at(s + len - 1);
    if (len > 1 && (last === PLUS || last === MINUS)) {
      let unusual = false;
      for (let k = s; k < s + len - 1; k++) if (isUnusualOpChar(this.at(k))) unusual = true;
      if (!unusual) {
        do len--;
        while (len > 1 && (this.at(s + len - 1) === PLUS || this.at(s + len - 1) === MINUS));
      }
    }
    if (len >= 64) return -1; // the scanner refuses operators of NAMEDATALEN bytes
    const end = s + len;
    const op = this.slice(s, end);
    if (len === 1 && SELF.includes(op)) this.push(s, end, charTokenName(op));
    else this.push(s, end, TWO_CHAR_OPERATORS[op] ?? 'UNKNOWN');
    return end;
  }
}

const INT4_MAX = 2147483647n;
const LONGEST_KEYWORD = 17; // current_timestamp
const SELF = ',()[].;:+-*/%^<>=';
/** libpg-query names a few single-character tokens by their code and the rest UNKNOWN. */
const NAMED_CHARS = new Set(',();*=');
const charTokenName = (ch: string) => (NAMED_CHARS.has(ch) ? `ASCII_${ch.charCodeAt(0)}` : 'UNKNOWN');
const TWO_CHAR_OPERATORS: Record<string, string> = { '=>': 'UNKNOWN', '<=': 'LESS_EQUALS', '>=': 'GREATER_EQUALS', '<>': 'NOT_EQUALS', '!=': 'NOT_EQUALS' };

const QUOTE = 0x27;
const DQUOTE = 0x22;
const DOLLAR = 0x24;
const MINUS = 0x2d;
const PLUS = 0x2b;
const SLASH = 0x2f;
const STAR = 0x2a;
const DOT = 0x2e;
const COLON = 0x3a;
const EQUALS = 0x3d;
const AMPERSAND = 0x26;
const BACKSLASH = 0x5c;
const UNDERSCORE = 0x5f;
const ZERO = 0x30;
const LOWER_E = 0x65;
const LOWER_B = 0x62;
const LOWER_X = 0x78;
const LOWER_N = 0x6e;
const LOWER_U = 0x75;
const UPPER_U = 0x55;

/** space [ \t\n\r\f\v] */
const isSpace = (c: number) => c === 0x20 || (c >= 0x09 && c <= 0x0d);
const isNewline = (c: number) => c === 0x0a || c === 0x0d;
const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
const isLetter = (c: number) => (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a);
/** ident_start [A-Za-z\200-\377_] (bytes; any non-ASCII character) */
const isIdentStart = (c: number) => isLetter(c) || c === UNDERSCORE || c >= 0x80;
/** ident_cont [A-Za-z\200-\377_0-9\$] */
const isIdentCont = (c: number) => isIdentStart(c) || isDigit(c) || c === DOLLAR;
/** dolq_start is ident_start; dolq_cont is ident_cont without `$` */
const isDollarTagStart = isIdentStart;
const isDollarTagCont = (c: number) => isDollarTagStart(c) || isDigit(c);
/** op_chars [\~\!\@\#\^\&\|\`\?\+\-\*\/\%\<\>\=] */
const OP_CHARS = new Uint8Array(128);
for (const ch of '~!@#^&|`?+-*/%<>=') OP_CHARS[ch.charCodeAt(0)] = 1;
const isOpChar = (c: number) => c >= 0 && c < 0x80 && OP_CHARS[c] === 1;
/** an operator holding one of these may end in + or - */
const isUnusualOpChar = (c: number) => '~!@#^&|`?%'.includes(String.fromCharCode(c));
const radixOf = (c: number) => ((c | 0x20) === LOWER_X ? 16 : (c | 0x20) === 0x6f ? 8 : (c | 0x20) === LOWER_B ? 2 : 10);
function isRadixDigit(c: number, radix: number): boolean {
  if (radix === 16) return isDigit(c) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66);
  if (radix === 8) return c >= 0x30 && c <= 0x37;
  if (radix === 2) return c === 0x30 || c === 0x31;
  return isDigit(c);
}
