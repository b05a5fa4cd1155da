import { SourceText } from './sourceText';
import { isComment, parsePlPgSQLSync, parseSync, scanSync, type ScanToken } from './parser';
import { formatTypeName, type TypeNameNode } from './types';

export interface Diagnostic {
  where: string;
  message: string;
}

interface FunctionParameter {
  name?: string;
  argType: TypeNameNode;
  mode: 'FUNC_PARAM_IN' | 'FUNC_PARAM_OUT' | 'FUNC_PARAM_INOUT' | 'FUNC_PARAM_VARIADIC' | 'FUNC_PARAM_TABLE' | 'FUNC_PARAM_DEFAULT';
  defexpr?: unknown;
}

interface DefElem {
  defname: string;
  arg?: unknown;
}

export interface CreateFunctionStmt {
  is_procedure?: boolean;
  replace?: boolean;
  funcname: { String: { sval: string } }[];
  parameters?: { FunctionParameter: FunctionParameter }[];
  returnType?: TypeNameNode;
  options?: { DefElem: DefElem }[];
  sql_body?: unknown;
}

/** Where a definition's body is, so calls in it can be found and rewritten. */
type Body =
  | { kind: 'string'; language: string; text: string; token: ScanToken; contentOffset: number | null; parsed?: unknown[] }
  | { kind: 'atomic'; tokens: ScanToken[] }
  | { kind: 'opaque' };

export interface Definition {
  source: SourceText;
  /** file:line:column of the statement, for messages */
  where: string;
  kind: 'function' | 'procedure';
  schema: string;
  name: string;
  /** identity argument types as format_type() prints them, ", "-separated */
  args: string;
  /** how many arguments a call may pass */
  minArgs: number;
  maxArgs: number;
  language: string;
  securityDefiner: boolean;
  ast: CreateFunctionStmt;
  /** every token of the statement, comments included, with file byte offsets */
  tokens: ScanToken[];
  /** byte span of CREATE [OR REPLACE] and of the (qualified) name */
  createSpan: [number, number];
  nameSpan: [number, number];
  stmtSpan: [number, number];
  body: Body;
}

function stringOf(node: unknown): string | undefined {
  const s = (node as { String?: { sval?: string } } | undefined)?.String;
  return s ? (s.sval ?? '') : undefined;
}

function describeStatement(stmt: Record<string, unknown>): string {
  const kind = Object.keys(stmt)[0] ?? 'unknown';
  return kind.replace(/Stmt$/, '').replace(/([a-z])([A-Z])/g, '$1 $2').toUpperCase();
}

/**
 * Parses one file into function/procedure definitions. Anything that is not
 * CREATE FUNCTION / CREATE PROCEDURE, or does not parse, becomes a diagnostic.
 */
export function parseDefinitions(source: SourceText, defaultSchema: string): { definitions: Definition[]; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const definitions: Definition[] = [];
  let parsed: ReturnType<typeof parseSync>;
  try {
    parsed = parseSync(source.text);
  } catch (e) {
    const err = e as Error & { sqlDetails?: { cursorPosition?: number } };
    const at = SourceText.charToByte(source.text, err.sqlDetails?.cursorPosition ?? 0);
    diagnostics.push({ where: source.where(at), message: err.message });
    return { definitions, diagnostics };
  }
  const allTokens = scanSync(source.text).tokens;
  let next = 0; // statements and tokens are both in file order: walk them together

  for (const raw of parsed.stmts ?? []) {
    const start = raw.stmt_location ?? 0;
    const end = raw.stmt_len ? start + raw.stmt_len : source.bytes.length;
    while (next < allTokens.length && allTokens[next]!.start < start) next++;
    let last = next;
    while (last < allTokens.length && allTokens[last]!.end <= end) last++;
    const tokens = allTokens.slice(next, last);
    next = last;
    const firstCode = tokens.find((t) => !isComment(t));
    const at = source.where(firstCode?.start ?? start);
    const stmt = raw.stmt as unknown as Record<string, unknown>;
    const create = stmt['CreateFunctionStmt'] as CreateFunctionStmt | undefined;
    if (!create) {
      diagnostics.push({
        where: at,
        message: `only CREATE FUNCTION and CREATE PROCEDURE are allowed in procver sources; found ${describeStatement(stmt)}`,
      });
      continue;
    }
    try {
      definitions.push(toDefinition(source, create, tokens, at, defaultSchema, diagnostics));
    } catch (e) {
      diagnostics.push({ where: at, message: (e as Error).message.replace(`${at}: `, '') });
    }
  }
  return { definitions, diagnostics };
}

function toDefinition(
  source: SourceText,
  ast: CreateFunctionStmt,
  allStmtTokens: ScanToken[],
  where: string,
  defaultSchema: string,
  diagnostics: Diagnostic[],
): Definition {
  const code = allStmtTokens.filter((t) => !isComment(t));
  const names = ast.funcname.map((n) => n.String.sval);
  const name = names[names.length - 1]!;
  const schema = names.length > 1 ? names[names.length - 2]! : defaultSchema;
  if (names.length > 2) throw new Error(`cross-database references are not supported: ${names.join('.')}`);

  // CREATE [OR REPLACE] FUNCTION|PROCEDURE <name> (
  const kwIndex = code.findIndex((t) => t.text.toUpperCase() === 'FUNCTION' || t.text.toUpperCase() === 'PROCEDURE');
  const nameStart = code[kwIndex + 1]!;
  const nameEnd = names.length > 1 ? code[kwIndex + 3]! : nameStart;
  const lastCode = code[code.length - 1]!;
  const stmtEnd = lastCode.text === ';' ? code[code.length - 2]!.end : lastCode.end;

  const params = (ast.parameters ?? []).map((p) => p.FunctionParameter);
  const kind = ast.is_procedure ? 'procedure' : 'function';
  const identity = params.filter((p) => p.mode !== 'FUNC_PARAM_OUT' && p.mode !== 'FUNC_PARAM_TABLE');
  const args = identity.map((p) => formatTypeName(p.argType, where)).join(', ');
  const variadic = identity.some((p) => p.mode === 'FUNC_PARAM_VARIADIC');
  const defaults = identity.filter((p) => p.defexpr !== undefined).length;
  const fixed = identity.filter((p) => p.mode !== 'FUNC_PARAM_VARIADIC').length;
  // A procedure's OUT arguments are passed in CALL too (as NULL or a variable).
  const outForCall = kind === 'procedure' ? params.filter((p) => p.mode === 'FUNC_PARAM_OUT').length : 0;
  const minArgs = fixed - defaults;
  const maxArgs = variadic ? Number.POSITIVE_INFINITY : identity.length + outForCall;

  const options = (ast.options ?? []).map((o) => o.DefElem);
  const language = (stringOf(options.find((o) => o.defname === 'language')?.arg) ?? 'sql').toLowerCase();
  const securityDefiner = options.some(
    (o) => o.defname === 'security' && (o.arg as { Boolean?: { boolval?: boolean } })?.Boolean?.boolval === true,
  );

  const body = findBody(source, ast, code, options, language, diagnostics);
  return {
    source,
    where,
    kind,
    schema,
    name,
    args,
    minArgs,
    maxArgs,
    language,
    securityDefiner,
    ast,
    tokens: allStmtTokens,
    createSpan: [code[0]!.start, code[kwIndex - 1]!.end],
    nameSpan: [nameStart.start, nameEnd.end],
    stmtSpan: [code[0]!.start, stmtEnd],
    body,
  };
}

function findBody(
  source: SourceText,
  ast: CreateFunctionStmt,
  code: ScanToken[],
  options: DefElem[],
  language: string,
  diagnostics: Diagnostic[],
): Body {
  if (ast.sql_body !== undefined) {
    // SQL-standard body: BEGIN ATOMIC ... END, or RETURN expr. It starts at the first
    // top-level BEGIN/RETURN after the parameter list.
    let depth = 0;
    let seenParams = false;
    for (let i = 0; i < code.length; i++) {
      const t = code[i]!;
      if (t.text === '(') depth++;
      if (t.text === ')') {
        depth--;
        if (depth === 0) seenParams = true;
      }
      const word = t.text.toUpperCase();
      if (seenParams && depth === 0 && (word === 'BEGIN' || word === 'RETURN')) {
        return { kind: 'atomic', tokens: code.slice(i, code[code.length - 1]!.text === ';' ? -1 : undefined) };
      }
    }
    return { kind: 'opaque' };
  }
  const as = options.find((o) => o.defname === 'as');
  const items = (as?.arg as { List?: { items?: unknown[] } } | undefined)?.List?.items ?? [];
  if (items.length !== 1 || (language !== 'sql' && language !== 'plpgsql')) return { kind: 'opaque' };
  const text = stringOf(items[0]) ?? '';
  // The body literal is the string constant right after AS.
  const asIndex = code.findIndex((t, i) => t.text.toUpperCase() === 'AS' && code[i + 1]?.tokenName === 'SCONST');
  const token = code[asIndex + 1];
  if (!token) return { kind: 'opaque' };
  const dollar = token.text.startsWith('$') ? token.text.indexOf('$', 1) + 1 : 0;
  const contentOffset = dollar > 0 ? token.start + dollar : null;
  const bodyAt = (offsetInBody: number) =>
    contentOffset === null ? source.where(token.start) : source.where(contentOffset + offsetInBody);

  let parsed: unknown[] | undefined;
  if (language === 'sql') {
    try {
      parsed = (parseSync(text).stmts ?? []).map((st) => st.stmt);
    } catch (e) {
      const err = e as Error & { sqlDetails?: { cursorPosition?: number } };
      diagnostics.push({
        where: bodyAt(SourceText.charToByte(text, err.sqlDetails?.cursorPosition ?? 0)),
        message: `in the function body: ${err.message}`,
      });
    }
  } else {
    try {
      parsePlPgSQLSync(source.slice(code[0]!.start, code[code.length - 1]!.end));
    } catch (e) {
      diagnostics.push({ where: bodyAt(0), message: `in the PL/pgSQL body: ${(e as Error).message}` });
    }
  }
  return { kind: 'string', language, text, token, contentOffset, parsed };
}
