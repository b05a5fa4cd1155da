import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { KEYWORD, keywordKind } from '../../lib/keywords';
import { lex, type Token } from '../../lib/compile/lexer';
import { loadParser, parseSync, scanSync } from '../../lib/compile/parser';
import { parserWords } from '../helpers/parserWords';

/** libpg-query's scanner, the reference: its tokens with the fields procver reads, or its error. */
function reference(text: string): Token[] | 'error' {
  try {
    return scanSync(text).tokens.map((t) => ({ start: t.start, end: t.end, text: t.text, tokenName: t.tokenName, keywordKind: t.keywordKind }));
  } catch {
    return 'error';
  }
}

/** Control characters the scanner's JSON leaves unescaped (libpg-query then fails to read it back). */
const isControl = (code: number) => code >= 0x01 && code <= 0x1f && code !== 0x09 && code !== 0x0a && code !== 0x0d;
const hasControl = (text: string) => [...text].some((c) => isControl(c.charCodeAt(0)));
/** The same characters as ones PostgreSQL's scanner treats alike, which the JSON survives: \v and \f are white space, the rest "other". */
const likeControl = (text: string) => [...text].map((c) => (!isControl(c.charCodeAt(0)) ? c : c === '\v' || c === '\f' ? ' ' : '\x7f')).join('');

/**
 * Where the lexer answers, it answers what the scanner answers; where the scanner fails, it does not
 * answer. One exception, by design: on a control character in a string or comment (a form feed
 * in a comment, an escape sequence in a string) libpg-query writes JSON it cannot read back, while
 * PostgreSQL scans it; there the lexer answers what the scanner answers for the same text with
 * each control character replaced by one of its class.
 */
function agrees(text: string): 'same' | 'declined' {
  if (hasControl(text)) {
    const mine = lex(text);
    if (mine === null) return 'declined';
    const theirs = reference(likeControl(text));
    expect(theirs, `the scanner fails on ${JSON.stringify(likeControl(text))}, the lexer answered`).not.toBe('error');
    expect(
      mine.map((t) => ({ ...t, text: likeControl(t.text) })),
      JSON.stringify(text),
    ).toEqual(theirs);
    return 'same';
  }
  const mine = lex(text);
  const theirs = reference(text);
  if (mine === null) return 'declined';
  expect(theirs, `the scanner fails on ${JSON.stringify(text)}, the lexer answered`).not.toBe('error');
  expect(mine, JSON.stringify(text)).toEqual(theirs);
  return 'same';
}

function sqlFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.sql'))
    .map((f) => join(dir, f));
}

/** Every function body in a file, as the compiler scans it on its own. */
function bodies(text: string): string[] {
  const out: string[] = [];
  let parsed: ReturnType<typeof parseSync>;
  try {
    parsed = parseSync(text);
  } catch {
    return out;
  }
  for (const s of parsed.stmts ?? []) {
    const create = (s.stmt as { CreateFunctionStmt?: { options?: { DefElem: { defname: string; arg?: { List?: { items?: { String?: { sval: string } }[] } } } }[] } })
      .CreateFunctionStmt;
    const as = create?.options?.find((o) => o.DefElem.defname === 'as')?.DefElem.arg?.List?.items?.[0]?.String?.sval;
    if (as) out.push(as);
  }
  return out;
}

beforeAll(loadParser);

describe('lexer (lib/compile/lexer.ts) against libpg-query’s scanner', () => {
  it('agrees on every fixture and example file and every function body in them, declining none', () => {
    const files = [...sqlFiles('test/fixtures'), ...sqlFiles('examples')];
    expect(files.length).toBeGreaterThan(20);
    let texts = 0;
    for (const f of files) {
      const text = readFileSync(f, 'utf8');
      for (const t of [text, ...bodies(text)]) {
        // A fixture may hold a deliberate continuation or U& string: those must be declined, not guessed.
        const outcome = agrees(t);
        if (outcome === 'declined') expect(reference(t) === 'error' || /U&|'\s*\n\s*'|'\s*--[^\n]*\n\s*'/i.test(t), `${f} declined`).toBe(true);
        texts++;
      }
    }
    expect(texts).toBeGreaterThan(250);
  });

  it('classifies every keyword of the scanner, in any case, and no other word', () => {
    const words = parserWords();
    let keywords = 0;
    for (const w of words) {
      const theirs = scanSync(w).tokens;
      if (theirs.length !== 1) continue;
      expect(keywordKind(w), w).toBe(theirs[0]!.keywordKind);
      if (theirs[0]!.keywordKind !== KEYWORD.none) {
        keywords++;
        agrees(w.toUpperCase());
        agrees(w[0]!.toUpperCase() + w.slice(1));
      }
    }
    expect(keywords).toBe(494);
  });

  it('agrees on the lexical corners of PostgreSQL 18', () => {
    const corners = [
      `E'a\\'b' B'101' X'1F' N'x' $$x$$ $q$y$q$ $1 1.5e3 .5 1. 10 0x1F 0o17 0b101 1_000 0x_1 :: := => .. <= >= != <> ~~ @> -> ->> || a.b`,
      `café "é" #>> +- */- %rowtype x:=1 a-->b 5..6 $a $_ 1..2 1.e5 2.. :name :'v' :"w" x::int[] a#b @@ ?| ? $1.f 1::text`,
      `SELECT 1 -- c\n/* a /* nested */ b */ x`,
      `'a' 'b'`,
      `'a' /* c */\n'b'`,
      `e'\\n' E'\\\\' E'\\x41' E'\\101' 'it''s' 'back\\slash'`,
      `2147483647 2147483648 0x7FFFFFFF 0x80000000 0000000000002147483647 9223372036854775808 1_2_3`,
      `+ - * / % ^ < > = , ( ) [ ] ; : . \\ { } \``,
      `!== <=> |/ ||/ @-@ #- ?- ~* !~* -- trailing`,
      `a+-b a-+b a*-b a@-b a!-1 a~+ a+/*c*/b a=-1`,
      `$body$ a $bod$ b $body$ $$ $x$ $$ $1 $a$ x$a $a$`,
      `select$$x$$ a$b$ $a$b$a$`,
      `überall naïve "日本" $é$ x $é$ 'ü' -- ☃`,
      `\\set ON_ERROR_STOP on\nSELECT 1;`,
      `"a""b" "" ""x`,
      `U&'d\\0061t' UESCAPE '!'`,
      `'a'\n'b'`,
      `'a' -- c\n 'b'`,
      `1e 1e+ 1x 0x 0b2 0o8 123abc 1.5x .5e $1abc 1__0 1_`,
      `'abc`,
      `"abc`,
      `/* x`,
      `$$ x`,
      `B'1''0'`,
      `+`.repeat(70),
      `\u212Aey`,
      `\u00a0x\u00a0`,
      '\t\v\f\r\n x',
      'a\0b',
      `0x1$ 0b12 0o78 0b1$ 0x1F$ 1e5$ 1.e5$ .5e1$ 1.5e5$ 1$ 1.5$`,
      `E'\\0' E'\\x00' E'\\08' E'\\xff' E'\\377' E'\\400' E'\\xC3' E'\\t\\n\\\\'`,
      `$2147483647 $2147483648 $99999999999 $1_000`,
      `'\x01' -- page\fbreak\n/* \x1b[31m */ $$\v$$ a\x02b \x1f`,
    ];
    for (const c of corners) agrees(c);
    // The ones that must be answered (no continuation, escape or error in them):
    const answered = corners.slice(0, corners.indexOf(`\\set ON_ERROR_STOP on\nSELECT 1;`) + 1);
    expect(answered.length).toBe(14);
    for (const c of answered) expect(lex(c), c).not.toBeNull();
  });

  it('agrees on 20,000 generated texts made of the characters that matter', () => {
    const alphabet = [...'\'"$-/*eExXbBnNuU&._:=<>!+~@#%^|?`;,()[]\\ \n\t0123456789aAzZé', '--', '/*', '*/', '$$', "''", '$a$', '1e', '0x'];
    let seed = 20261204;
    const random = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    let answered = 0;
    for (let k = 0; k < 20_000; k++) {
      let text = '';
      const len = 1 + Math.floor(random() * 12);
      for (let m = 0; m < len; m++) text += alphabet[Math.floor(random() * alphabet.length)];
      if (text.trim() === '') continue;
      if (agrees(text) === 'same') answered++;
    }
    // Most generated texts are ordinary enough to be answered here, not passed on.
    expect(answered).toBeGreaterThan(8_000);
  });
});
