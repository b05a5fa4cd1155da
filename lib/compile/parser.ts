import * as pgQuery from 'libpg-query';
import { KEYWORD } from '../keywords';
import { lex, type Token } from './lexer';

let loaded: Promise<void> | undefined;

/** libpg-query is WASM: load it once before any *Sync call. */
export function loadParser(): Promise<void> {
  loaded ??= pgQuery.loadModule();
  return loaded;
}

export type ScanToken = Token;
export const { scanSync, parsePlPgSQLSync } = pgQuery;

/**
 * libpg-query's parser, except that it refuses the empty string ("Query cannot be empty") where
 * PostgreSQL's parser returns no statements: an empty file, or `AS ''` (a SQL function returning
 * void may have an empty body). One space parses to that empty list.
 */
export function parseSync(text: string): ReturnType<typeof pgQuery.parseSync> {
  return pgQuery.parseSync(text === '' ? ' ' : text);
}

/**
 * The tokens of `text` as libpg-query's scanner reports them: from the JavaScript lexer where it is
 * sure (most text, at a fraction of the cost), else from the scanner, which throws on bad input.
 */
export function scanTokens(text: string): Token[] {
  return lex(text) ?? scanSync(text).tokens;
}

export { KEYWORD } from '../keywords';

export function isComment(t: ScanToken): boolean {
  return t.tokenName === 'SQL_COMMENT' || t.tokenName === 'C_COMMENT';
}

/** A token that can name a function: an identifier or a non-reserved keyword. */
export function isNameToken(t: ScanToken | undefined): t is ScanToken {
  if (!t) return false;
  if (t.tokenName === 'IDENT') return true;
  return t.keywordKind === KEYWORD.unreserved || t.keywordKind === KEYWORD.colName || t.keywordKind === KEYWORD.typeFuncName;
}

/** The identifier a name token denotes: unquoted names fold to lower case. */
export function identValue(t: ScanToken): string {
  if (t.text.startsWith('"')) return t.text.slice(1, -1).replaceAll('""', '"');
  if (t.text.startsWith('U&"') || t.text.startsWith('u&"')) return t.text; // rare; left verbatim
  return t.text.toLowerCase();
}

// Identifier quoting needs no parser: it lives with the other identifier rules.
export { qualifiedName, quoteIdent } from '../identifiers';
