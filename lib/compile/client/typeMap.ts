/**
 * SQL types to TypeScript types, as node-postgres (`pg`, default type parsers) hands values over:
 * a result type is what pg-types parses the column into (or the text PostgreSQL sent when it has no
 * parser for the type OID), a parameter type is what pg's prepareValue turns into valid input.
 * Types that need the catalog are `unknown` unless the catalog was read; nothing is guessed.
 */

import { isPseudo } from '../pseudoTypes';

/** What the database said about a type that is not built in (read by catalog.ts). */
export type CatalogType =
  | { kind: 'enum'; labels: string[] }
  | { kind: 'domain'; base: string }
  | { kind: 'composite'; columns: { name: string; type: string }[] }
  /** base, range, multirange types: PostgreSQL sends text, pg has no parser, so a string */
  | { kind: 'text' };

/** Keyed by the type name as the signature spells it (format_type() style). */
export type Catalog = ReadonlyMap<string, CatalogType>;

const point = '{ x: number; y: number }';

/** Scalar result types pg parses (text parsers in pg-types); every other built-in arrives as a string. */
const parsedScalars: Record<string, string> = {
  smallint: 'number',
  integer: 'number',
  oid: 'number',
  real: 'number',
  'double precision': 'number',
  bigint: 'string', // int8 is kept as a string: it may exceed Number.MAX_SAFE_INTEGER
  boolean: 'boolean',
  date: 'Date',
  'timestamp without time zone': 'Date',
  'timestamp with time zone': 'Date',
  json: 'JsonValue',
  jsonb: 'JsonValue',
  bytea: 'Uint8Array',
  interval: 'PgInterval',
  point,
  circle: '{ x: number; y: number; radius: number }',
};

/** Array element types pg parses into JavaScript arrays; any other array arrives as its text literal. */
const parsedArrayElements: Record<string, string> = {
  smallint: 'number',
  integer: 'number',
  oid: 'number',
  real: 'number',
  'double precision': 'number',
  numeric: 'number', // pg-types parses numeric[] elements with parseFloat (unlike a numeric scalar)
  bigint: 'string',
  boolean: 'boolean',
  bytea: 'Uint8Array',
  text: 'string',
  'character varying': 'string',
  character: 'string',
  uuid: 'string',
  inet: 'string',
  cidr: 'string',
  macaddr: 'string',
  money: 'string',
  numrange: 'string',
  regproc: 'string',
  'time without time zone': 'string',
  'time with time zone': 'string',
  date: 'Date',
  'timestamp without time zone': 'Date',
  'timestamp with time zone': 'Date',
  interval: 'PgInterval',
  json: 'JsonValue',
  jsonb: 'JsonValue',
  point,
};

/** Built-in types that arrive as text (no parser in pg-types). Anything not listed anywhere is unknown. */
const textScalars = new Set([
  'numeric',
  'money',
  'text',
  'character varying',
  'character',
  'name',
  '"char"',
  'uuid',
  'xml',
  'inet',
  'cidr',
  'macaddr',
  'macaddr8',
  'time without time zone',
  'time with time zone',
  'bit',
  'bit varying',
  'tsvector',
  'tsquery',
  'pg_lsn',
  'regclass',
  'regproc',
  'regprocedure',
  'regtype',
  'regrole',
  'regnamespace',
  'box',
  'lseg',
  'line',
  'path',
  'polygon',
  'int4range',
  'int8range',
  'numrange',
  'tsrange',
  'tstzrange',
  'daterange',
]);

/** Parameter types: what the caller may pass so that pg sends valid input for the cast. */
const paramScalars: Record<string, string> = {
  smallint: 'number',
  integer: 'number',
  oid: 'number',
  real: 'number',
  'double precision': 'number',
  bigint: 'string | number | bigint',
  numeric: 'string | number',
  money: 'string | number',
  boolean: 'boolean',
  date: 'Date | string',
  'timestamp without time zone': 'Date | string',
  'timestamp with time zone': 'Date | string',
  // Encoded with JSON.stringify by the generated code (pg would turn a JS array into a PostgreSQL array).
  json: 'unknown',
  jsonb: 'unknown',
  bytea: 'Uint8Array',
};

const arrayOf = (t: string) => (t.endsWith('[]') ? t.slice(0, -2) : null);
const elements = (t: string) => `(${t} | null)[]`;

/** TypeScript type of a value of `sqlType` in a result (null not included). */
export function resultType(sqlType: string | null, catalog: Catalog): string {
  if (sqlType === null) return 'unknown';
  const element = arrayOf(sqlType);
  if (element !== null) {
    const parsed = parsedArrayElements[element];
    if (parsed) return elements(parsed);
    if (isBuiltin(element)) return 'string';
    // An array of a catalog type has its own OID, which pg does not parse: the literal text.
    const c = catalog.get(element);
    return c ? 'string' : 'unknown';
  }
  const parsed = parsedScalars[sqlType];
  if (parsed) return parsed;
  if (textScalars.has(sqlType)) return 'string';
  if (sqlType === 'void') return 'void';
  const c = catalog.get(sqlType);
  if (!c) return 'unknown';
  switch (c.kind) {
    case 'enum':
      return enumUnion(c.labels);
    case 'domain':
      // PostgreSQL describes a domain column by its base type, so pg parses it as the base type.
      return resultType(c.base, catalog);
    case 'composite':
    case 'text':
      // A row value inside a column (or an unparsed type) arrives as its text form.
      return 'string';
  }
}

/** An enum as the union of its labels (pg hands them over as strings); `string` for one without labels. */
function enumUnion(labels: string[]): string {
  return labels.length > 0 ? labels.map((l) => JSON.stringify(l)).join(' | ') : 'string';
}

/** TypeScript type a caller passes for an argument of `sqlType` (null not included). */
export function paramType(sqlType: string | null, catalog: Catalog): string {
  if (sqlType === null) return 'unknown';
  const element = arrayOf(sqlType);
  if (element !== null) {
    const t = paramType(element, catalog);
    return t === 'unknown' ? 'unknown' : elements(t);
  }
  const known = paramScalars[sqlType];
  if (known) return known;
  if (textScalars.has(sqlType) || sqlType === 'interval' || sqlType === 'point' || sqlType === 'circle') return 'string';
  const c = catalog.get(sqlType);
  if (!c) return 'unknown';
  switch (c.kind) {
    case 'enum':
      return enumUnion(c.labels);
    case 'domain':
      return paramType(c.base, catalog);
    case 'composite':
    case 'text':
      return 'string';
  }
}

/** How the generated code encodes an argument before pg sees it. */
export function paramEncoding(sqlType: string | null, catalog: Catalog): 'json' | 'json[]' | null {
  if (sqlType === null) return null;
  const element = arrayOf(sqlType);
  const base = (t: string): string => {
    const c = catalog.get(t);
    return c?.kind === 'domain' ? base(c.base) : t;
  };
  const json = (t: string) => t === 'json' || t === 'jsonb';
  if (element !== null) return json(base(element)) ? 'json[]' : null;
  return json(base(sqlType)) ? 'json' : null;
}

/** The columns of a composite type, when the catalog was read; null otherwise. */
export function compositeColumns(sqlType: string | null, catalog: Catalog): { name: string; type: string }[] | null {
  if (sqlType === null) return null;
  const c = catalog.get(sqlType);
  if (c?.kind === 'domain') return compositeColumns(c.base, catalog);
  return c?.kind === 'composite' ? c.columns : null;
}

/** Whether the type is built into PostgreSQL (needs no catalog to be understood). */
export function isBuiltin(sqlType: string): boolean {
  const element = arrayOf(sqlType) ?? sqlType;
  return element in parsedScalars || textScalars.has(element) || element === 'void' || isPseudo(element);
}
