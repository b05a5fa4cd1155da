import { KEYWORD, keywordKind } from './keywords';

/** PostgreSQL truncates longer identifiers (with only a NOTICE): procver never lets it. */
const MAX_IDENTIFIER_BYTES = 63;

/** `base + suffix` within 63 bytes: the base is shortened on a character boundary, never the suffix. */
export function fitIdentifier(base: string, suffix: string): string {
  const budget = MAX_IDENTIFIER_BYTES - Buffer.byteLength(suffix, 'utf8');
  let out = '';
  for (const ch of base) {
    if (Buffer.byteLength(out + ch, 'utf8') > budget) break;
    out += ch;
  }
  return out + suffix;
}

/**
 * quote_ident() quotes every keyword but the unreserved ones. The list is plain data (lib/keywords.ts),
 * not asked of the WASM scanner, so that registry code can quote a name without loading the compiler.
 */
const needsQuotes = (word: string) => keywordKind(word) !== KEYWORD.none && keywordKind(word) !== KEYWORD.unreserved;

/**
 * An identifier as PostgreSQL's quote_ident() prints it: bare when it is lower-case letters, digits
 * and underscores, not starting with a digit, and not a keyword that needs quoting; quoted
 * otherwise. One difference: `$` stays bare after the first character, as procver has always
 * printed it (callers' rewritten bodies, and so their hashes, contain these names).
 */
export function quoteIdent(name: string): string {
  if (/^[a-z_][a-z0-9_$]*$/.test(name) && !needsQuotes(name)) return name;
  return `"${name.replaceAll('"', '""')}"`;
}

export function qualifiedName(schema: string, name: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(name)}`;
}
