import type { CreateFunctionStmt } from '../definitions';
import { formatTypeName, type TypeNameNode } from '../types';

/** How an argument is passed, as CREATE FUNCTION declares it. */
export type ParamMode = 'in' | 'out' | 'inout' | 'variadic' | 'table';

export interface SqlParam {
  name: string | null;
  /** the type as format_type() prints it (arrays end in []); null when the source leaves it to the catalog (%TYPE) */
  type: string | null;
  mode: ParamMode;
  hasDefault: boolean;
}

/** What a typed client needs to call a version: its arguments and what it returns. */
export interface Signature {
  params: SqlParam[];
  /** RETURNS clause; null for procedures (and for functions whose OUT arguments imply it) */
  returns: { type: string | null; setof: boolean } | null;
}

const modes: Record<string, ParamMode> = {
  FUNC_PARAM_IN: 'in',
  FUNC_PARAM_DEFAULT: 'in',
  FUNC_PARAM_OUT: 'out',
  FUNC_PARAM_INOUT: 'inout',
  FUNC_PARAM_VARIADIC: 'variadic',
  FUNC_PARAM_TABLE: 'table',
};

/** A type for the client only: %TYPE references cannot be resolved from the source, so they stay unknown. */
function clientType(t: TypeNameNode | undefined, where: string): string | null {
  if (!t || t.pct_type) return null;
  return formatTypeName(t, where);
}

/** The signature of one CREATE FUNCTION / CREATE PROCEDURE, read from its parse tree. */
export function signatureOf(ast: CreateFunctionStmt, where: string): Signature {
  const params = (ast.parameters ?? []).map(({ FunctionParameter: p }) => ({
    name: p.name ?? null,
    type: clientType(p.argType, where),
    mode: modes[p.mode] ?? 'in',
    hasDefault: p.defexpr !== undefined,
  }));
  const returns = ast.returnType ? { type: clientType(ast.returnType, where), setof: ast.returnType.setof === true } : null;
  return { params, returns };
}
