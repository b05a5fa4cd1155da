/**
 * What the compiler keeps of libpg-query's PL/pgSQL tree: the variables (for argument types) and
 * the expressions (to find calls in). Taken as soon as a body is parsed so that the tree itself,
 * large and otherwise kept until every definition is compiled, dies young.
 */

type Node = Record<string, unknown>;

export interface PlpgsqlSummary {
  /** the function's datums (PLpgSQL_var, PLpgSQL_rec …) as libpg-query reports them */
  datums: Node[];
  expressions: PlExpression[];
}

export function summarizePlpgsql(tree: unknown): PlpgsqlSummary {
  const fn = (tree as { plpgsql_funcs?: { PLpgSQL_function?: { datums?: Node[] } }[] } | undefined)?.plpgsql_funcs?.[0]?.PLpgSQL_function;
  return { datums: fn?.datums ?? [], expressions: plExpressions(tree) };
}

/** The PL/pgSQL expressions of a function, each with the line of its statement. */
export interface PlExpression {
  query: string;
  parseMode: number;
  lineno: number;
  perform: boolean;
  dynamic: boolean;
}

const dynamicFields: Record<string, string> = {
  PLpgSQL_stmt_dynexecute: 'query',
  PLpgSQL_stmt_dynfors: 'query',
  PLpgSQL_stmt_open: 'dynquery',
  PLpgSQL_stmt_return_query: 'dynquery',
};

function plExpressions(tree: unknown): PlExpression[] {
  const out: PlExpression[] = [];
  const visit = (n: unknown, lineno: number, perform: boolean, dynamic: boolean, stmtKind: string | null): void => {
    if (Array.isArray(n)) {
      for (const x of n) visit(x, lineno, perform, dynamic, stmtKind);
      return;
    }
    if (!n || typeof n !== 'object') return;
    const o = n as Node;
    const line = typeof o['lineno'] === 'number' && o['lineno'] > 0 ? (o['lineno'] as number) : lineno;
    for (const k in o) {
      const v = o[k];
      if (k === 'PLpgSQL_expr') {
        const e = v as { query?: string; parseMode?: number };
        out.push({ query: e.query ?? '', parseMode: e.parseMode ?? 0, lineno: line, perform, dynamic });
        continue;
      }
      if (k.startsWith('PLpgSQL_stmt_')) {
        visit(v, line, k === 'PLpgSQL_stmt_perform', false, k);
        continue;
      }
      const isDynamic = dynamic || (stmtKind !== null && dynamicFields[stmtKind] === k);
      visit(v, line, perform, isDynamic, stmtKind);
    }
  };
  visit(tree, 1, false, false, null);
  return out;
}
