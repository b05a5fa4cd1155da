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
 * Keywords that PostgreSQL's quote_ident() quotes: every category but unreserved (PostgreSQL 17's
 * kwlist.h, the parser libpg-query bundles; test/compile/identifiers.test.ts checks the list against
 * its scanner word by word). Kept here, not asked of the WASM scanner, so that registry code can
 * quote a name without loading the compiler.
 */
const QUOTED_KEYWORDS = new Set(
  // column-name keywords
  (
    'between bigint bit boolean char character coalesce dec decimal exists extract float greatest grouping inout int integer ' +
    'interval json json_array json_arrayagg json_exists json_object json_objectagg json_query json_scalar json_serialize ' +
    'json_table json_value least merge_action national nchar none normalize nullif numeric out overlay position precision ' +
    'real row setof smallint substring time timestamp treat trim values varchar xmlattributes xmlconcat xmlelement ' +
    'xmlexists xmlforest xmlnamespaces xmlparse xmlpi xmlroot xmlserialize xmltable ' +
    // type- and function-name keywords
    'authorization binary collation concurrently cross current_schema freeze full ilike inner is isnull join left like ' +
    'natural notnull outer overlaps right similar tablesample verbose ' +
    // reserved keywords
    'all analyse analyze and any array as asc asymmetric both case cast check collate column constraint create ' +
    'current_catalog current_date current_role current_time current_timestamp current_user default deferrable desc ' +
    'distinct do else end except false fetch for foreign from grant group having in initially intersect into lateral ' +
    'leading limit localtime localtimestamp not null offset on only or order placing primary references returning select ' +
    'session_user some symmetric system_user table then to trailing true union unique user using variadic when where ' +
    'window with'
  ).split(' '),
);

/**
 * An identifier as PostgreSQL's quote_ident() prints it: bare when it is lower-case letters, digits
 * and underscores, not starting with a digit, and not a keyword that needs quoting; quoted
 * otherwise. One difference: `$` stays bare after the first character, as procver has always
 * printed it (callers' rewritten bodies, and so their hashes, contain these names).
 */
export function quoteIdent(name: string): string {
  if (/^[a-z_][a-z0-9_$]*$/.test(name) && !QUOTED_KEYWORDS.has(name)) return name;
  return `"${name.replaceAll('"', '""')}"`;
}

export function qualifiedName(schema: string, name: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(name)}`;
}
