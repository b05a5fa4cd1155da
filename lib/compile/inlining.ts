import type { CreateFunctionStmt } from './definitions';
import { parseSync } from './parser';

type Node = Record<string, unknown>;

function singleSelectWithoutFrom(stmts: Node[]): boolean {
  if (stmts.length !== 1) return false;
  const only = stmts[0]!;
  if ('ReturnStmt' in only) return true;
  const select = only['SelectStmt'] as Node | undefined;
  if (!select) return false;
  // A scalar function is inlined only when its body is one SELECT with no FROM (and no set operation).
  return !select['fromClause'] && (select['op'] === undefined || select['op'] === 'SETOP_NONE') && !select['valuesLists'];
}

/**
 * Whether PostgreSQL may inline calls to this function into the calling query, in which case
 * pg_stat_user_functions never counts them. A superset of PostgreSQL's rules (inline_function and
 * inline_set_returning_function): when in doubt it says yes, so its counts are treated as unknown.
 */
export function mayBeInlined(ast: CreateFunctionStmt, language: string, bodyText: string | null, parsedBody?: unknown[]): boolean {
  if (ast.is_procedure || language !== 'sql') return false;
  const options = (ast.options ?? []).map((o) => o.DefElem);
  const securityDefiner = options.some((o) => o.defname === 'security' && (o.arg as { Boolean?: { boolval?: boolean } })?.Boolean?.boolval);
  if (securityDefiner || options.some((o) => o.defname === 'set')) return false;
  const volatility = (options.find((o) => o.defname === 'volatility')?.arg as { String?: { sval?: string } } | undefined)?.String?.sval ?? 'volatile';
  const returnsSet = ast.returnType?.setof === true || (ast.parameters ?? []).some((p) => p.FunctionParameter.mode === 'FUNC_PARAM_TABLE');
  if (returnsSet) return volatility !== 'volatile';

  let stmts: Node[];
  if (ast.sql_body !== undefined) {
    const body = ast.sql_body as Node;
    if ('ReturnStmt' in body) return true;
    const outer = ((body['List'] as Node | undefined)?.['items'] as Node[] | undefined) ?? [];
    const inner = ((outer[0]?.['List'] as Node | undefined)?.['items'] as Node[] | undefined) ?? [];
    stmts = inner;
  } else if (parsedBody !== undefined) {
    stmts = parsedBody as Node[];
  } else if (bodyText !== null) {
    try {
      stmts = (parseSync(bodyText).stmts ?? []).map((s) => s.stmt as unknown as Node);
    } catch {
      return true;
    }
  } else {
    return true;
  }
  return singleSelectWithoutFrom(stmts);
}
