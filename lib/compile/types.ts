import { ProcverError } from '../errors';
import { quoteIdent } from './parser';

/** pg_catalog types whose format_type() spelling differs from their internal name. */
const builtinSpelling: Record<string, string> = {
  int2: 'smallint',
  int4: 'integer',
  int8: 'bigint',
  float4: 'real',
  float8: 'double precision',
  bool: 'boolean',
  varchar: 'character varying',
  bpchar: 'character',
  timestamp: 'timestamp without time zone',
  timestamptz: 'timestamp with time zone',
  time: 'time without time zone',
  timetz: 'time with time zone',
  varbit: 'bit varying',
};

/** Unqualified names the grammar leaves as identifiers but PostgreSQL resolves to pg_catalog types. */
const unqualifiedBuiltins = new Set(Object.keys(builtinSpelling));

export interface TypeNameNode {
  names?: { String: { sval: string } }[];
  typmods?: unknown[];
  arrayBounds?: unknown[];
  pct_type?: boolean;
  setof?: boolean;
}

/**
 * The type as PostgreSQL's format_type() prints it for an identity argument (typmods dropped).
 * Types outside pg_catalog are printed as written, qualified if the source qualified them.
 */
export function formatTypeName(t: TypeNameNode, where: string): string {
  const names = (t.names ?? []).map((n) => n.String.sval);
  if (t.pct_type) {
    throw new ProcverError(
      'compile_failed',
      `${where}: %TYPE in a signature is not supported: the version hash could not cover the resolved type; write the type explicitly`,
    );
  }
  let base: string;
  const last = names[names.length - 1] ?? '';
  if (names.length === 2 && names[0] === 'pg_catalog') {
    // format_type() prints catalog types bare even where they are keywords (numeric, interval).
    base = builtinSpelling[last] ?? (last === 'char' ? '"char"' : last);
  } else if (names.length === 1 && unqualifiedBuiltins.has(last)) {
    base = builtinSpelling[last]!;
  } else {
    base = names.map(quoteIdent).join('.');
  }
  const dims = t.arrayBounds?.length ?? 0;
  return base + '[]'.repeat(dims > 0 ? 1 : 0);
}
