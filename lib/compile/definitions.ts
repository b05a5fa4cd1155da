import { SourceText } from './sourceText';
import type { OtherStatement } from './statements';
import { parsePlPgSQLSync, parseSync, type ScanToken } from './parser';
import { type PlpgsqlSummary, summarizePlpgsql } from './plpgsql';
import { scanCode } from './scan';
import { formatTypeName, type TypeNameNode } from './types';

export interface Diagnostic {
  where: string;
  message: string;
}

export interface FunctionParameter {
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
export type Body =
  | {
      kind: 'string';
      language: string;
      /** the body as PostgreSQL receives it (the literal decoded) */
      text: string;
      /** its tokens, without comments, with byte offsets into `text` */
      tokens: ScanToken[];
      /** `text` with comments blanked (what the parsers read; same byte offsets) */
      parseText: string;
      token: ScanToken;
      contentOffset: number | null;
      /** LANGUAGE sql: the parsed statements */
      parsed?: unknown[];
      /** LANGUAGE plpgsql: its variables and expressions */
      plpgsql?: PlpgsqlSummary;
    }
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
  /** the identity arguments one by one (IN, INOUT, VARIADIC; a procedure's OUT too) */
  params: { name: string | null; type: string; hasDefault: boolean; variadic: boolean }[];
  /** the result type as format_type() prints it, when it is one plain type (not SETOF, not OUT parameters) */
  returns: string | null;
  /** how many arguments a call may pass */
  minArgs: number;
  maxArgs: number;
  language: string;
  securityDefiner: boolean;
  /** the schemas of its own `SET search_path`, if it has one */
  searchPath: string[] | null;
  ast: CreateFunctionStmt;
  /** the statement's tokens, comments excluded, with file byte offsets */
  tokens: ScanToken[];
  /** byte span of CREATE [OR REPLACE] and of the (qualified) name */
  createSpan: [number, number];
  nameSpan: [number, number];
  stmtSpan: [number, number];
  body: Body;
  /** the file as the parser read it (comments blanked): PL/pgSQL is validated against it */
  parseText: string;
}

function stringOf(node: unknown): string | undefined {
  const s = (node as { String?: { sval?: string } } | undefined)?.String;
  return s ? (s.sval ?? '') : undefined;
}

/**
 * Parses one file into function/procedure definitions and the other statements (classified by
 * ./statements). A file that does not parse becomes a diagnostic;
 * psql meta-commands are skipped with a notice.
 */
export function parseDefinitions(
  source: SourceText,
  defaultSchema: string,
  notices: Diagnostic[] = [],
): { definitions: Definition[]; others: OtherStatement[]; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const definitions: Definition[] = [];
  const others: OtherStatement[] = [];
  const scanned = scanCode(source.text, { metaCommands: true });
  for (const m of scanned.metaCommands) {
    notices.push({ where: source.where(m.start), message: `skipped the psql meta-command ${source.slice(m.start, m.end).trim()}` });
  }
  for (const d of scanned.copyData) {
    notices.push({ where: source.where(d.start), message: `skipped ${d.lines} line(s) of data for the COPY … FROM stdin before them` });
  }
  let parsed: ReturnType<typeof parseSync>;
  try {
    parsed = parseSync(scanned.parseText);
  } catch (e) {
    const err = e as Error & { sqlDetails?: { cursorPosition?: number } };
    const at = SourceText.charToByte(scanned.parseText, err.sqlDetails?.cursorPosition ?? 0);
    diagnostics.push({ where: source.where(at), message: err.message });
    return { definitions, others, diagnostics };
  }
  const allTokens = scanned.tokens;
  // The file as the parser read it, in bytes, once: PL/pgSQL statements are cut from it.
  const parseBytes = scanned.parseText === source.text ? source.bytes : Buffer.from(scanned.parseText, 'utf8');
  let next = 0; // statements and tokens are both in file order: walk them together

  for (const raw of parsed.stmts ?? []) {
    const start = raw.stmt_location ?? 0;
    const end = raw.stmt_len ? start + raw.stmt_len : source.bytes.length;
    while (next < allTokens.length && allTokens[next]!.start < start) next++;
    let last = next;
    while (last < allTokens.length && allTokens[last]!.end <= end) last++;
    const tokens = allTokens.slice(next, last);
    next = last;
    const at = source.where(tokens[0]?.start ?? start);
    const stmt = raw.stmt as unknown as Record<string, unknown>;
    const create = stmt['CreateFunctionStmt'] as CreateFunctionStmt | undefined;
    if (!create) {
      others.push({ source, stmt, tokens, where: at });
      continue;
    }
    try {
      definitions.push(toDefinition(source, scanned.parseText, parseBytes, create, tokens, at, defaultSchema, diagnostics));
    } catch (e) {
      diagnostics.push({ where: at, message: (e as Error).message.replace(`${at}: `, '') });
    }
  }
  return { definitions, others, diagnostics };
}

function toDefinition(
  source: SourceText,
  parseText: string,
  parseBytes: Buffer,
  ast: CreateFunctionStmt,
  code: ScanToken[],
  where: string,
  defaultSchema: string,
  diagnostics: Diagnostic[],
): Definition {
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

  const all = (ast.parameters ?? []).map((p) => p.FunctionParameter);
  const kind = ast.is_procedure ? 'procedure' : 'function';
  const identity = all.filter((p) => p.mode !== 'FUNC_PARAM_OUT' && p.mode !== 'FUNC_PARAM_TABLE');
  const args = identity.map((p) => formatTypeName(p.argType, where)).join(', ');
  // A procedure's OUT arguments are passed in CALL too (as NULL or a variable).
  const callable = all.filter((p) => p.mode !== 'FUNC_PARAM_TABLE' && (p.mode !== 'FUNC_PARAM_OUT' || kind === 'procedure'));
  const params = callable.map((p) => ({
    name: p.name ?? null,
    type: formatTypeName(p.argType, where),
    hasDefault: p.defexpr !== undefined,
    variadic: p.mode === 'FUNC_PARAM_VARIADIC',
  }));
  const variadic = identity.some((p) => p.mode === 'FUNC_PARAM_VARIADIC');
  const defaults = identity.filter((p) => p.defexpr !== undefined).length;
  const fixed = identity.filter((p) => p.mode !== 'FUNC_PARAM_VARIADIC').length;
  const outForCall = callable.length - identity.length;
  const minArgs = fixed - defaults;
  const maxArgs = variadic ? Number.POSITIVE_INFINITY : identity.length + outForCall;

  const options = (ast.options ?? []).map((o) => o.DefElem);
  const language = (stringOf(options.find((o) => o.defname === 'language')?.arg) ?? 'sql').toLowerCase();
  const securityDefiner = options.some((o) => o.defname === 'security' && (o.arg as { Boolean?: { boolval?: boolean } })?.Boolean?.boolval === true);

  const body = findBody(source, parseBytes, ast, code, options, language, diagnostics);
  return {
    source,
    where,
    kind,
    schema,
    name,
    args,
    params,
    returns:
      ast.returnType && !ast.returnType.setof && !all.some((p) => p.mode === 'FUNC_PARAM_OUT' || p.mode === 'FUNC_PARAM_INOUT' || p.mode === 'FUNC_PARAM_TABLE')
        ? formatTypeName(ast.returnType, where)
        : null,
    minArgs,
    maxArgs,
    language,
    securityDefiner,
    searchPath: ownSearchPath(options),
    ast,
    tokens: code,
    createSpan: [code[0]!.start, code[kwIndex - 1]!.end],
    nameSpan: [nameStart.start, nameEnd.end],
    stmtSpan: [code[0]!.start, stmtEnd],
    body,
    parseText,
  };
}

/** `SET search_path = a, b` on the definition: the path its unqualified names resolve through. */
function ownSearchPath(options: DefElem[]): string[] | null {
  const set = options.find((o) => o.defname === 'set');
  const stmt = (set?.arg as { VariableSetStmt?: { name?: string; kind?: string; args?: unknown[] } } | undefined)?.VariableSetStmt;
  if (!stmt || stmt.name !== 'search_path' || stmt.kind !== 'VAR_SET_VALUE') return null;
  return (stmt.args ?? []).map((a) => (a as { A_Const?: { sval?: { sval?: string } } }).A_Const?.sval?.sval ?? '').filter((s) => s !== '');
}

function findBody(
  source: SourceText,
  fileBytes: Buffer,
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
  const bodyAt = (offsetInBody: number) => (contentOffset === null ? source.where(token.start) : source.where(contentOffset + offsetInBody));
  const scanned = scanCode(text);
  const body: Body & { kind: 'string' } = {
    kind: 'string',
    language,
    text,
    tokens: scanned.tokens,
    parseText: scanned.parseText,
    token,
    contentOffset,
  };

  if (language === 'sql') {
    try {
      body.parsed = (parseSync(scanned.parseText).stmts ?? []).map((st) => st.stmt);
    } catch (e) {
      const err = e as Error & { sqlDetails?: { cursorPosition?: number } };
      diagnostics.push({
        where: bodyAt(SourceText.charToByte(scanned.parseText, err.sqlDetails?.cursorPosition ?? 0)),
        message: `in the function body: ${err.message}`,
      });
    }
    return body;
  }
  // PL/pgSQL: libpg-query validates the statement. It has no catalog, so a %ROWTYPE variable
  // is not known to have fields (`r.x := 1` fails); declared as the bare type name (spaces for
  // `%ROWTYPE`, positions unchanged) it is a row variable whose fields are accepted.
  const plText = blankRowtype(scanned.parseText, scanned.tokens);
  const statementWith = (bodyText: string) =>
    fileBytes.subarray(code[0]!.start, token.start).toString('utf8') +
    dollarQuoted(bodyText) +
    fileBytes.subarray(token.end, code[code.length - 1]!.end).toString('utf8');
  try {
    body.plpgsql = summarizePlpgsql(parsePlPgSQLSync(statementWith(plText)));
  } catch (e) {
    const message = (e as Error).message;
    diagnostics.push({ where: bodyAt(plpgsqlErrorOffset(plText, message, statementWith)), message: `in the PL/pgSQL body: ${message}` });
  }
  return body;
}

/** A dollar-quoted literal of `body` with a tag that does not occur in it. */
export function dollarQuoted(body: string, preferred?: string): string {
  if (preferred && !body.includes(preferred)) return `${preferred}${body}${preferred}`;
  let tag = '$procver$';
  for (let n = 1; body.includes(tag); n++) tag = `$procver${n}$`;
  return `${tag}${body}${tag}`;
}

function blankRowtype(text: string, tokens: ScanToken[]): string {
  let out: Buffer | undefined;
  for (let i = 0; i + 1 < tokens.length; i++) {
    const t = tokens[i]!;
    const n = tokens[i + 1]!;
    if (t.text === '%' && n.start === t.end && n.text.toLowerCase() === 'rowtype') {
      out ??= Buffer.from(text, 'utf8');
      out.fill(0x20, t.start, n.end);
    }
  }
  return out ? out.toString('utf8') : text;
}

/**
 * Where in the body a PL/pgSQL error is: libpg-query reports no position, so find the shortest
 * prefix of the body's lines that fails with the same message (the parser reads left to right),
 * then the token the message names on that line.
 */
function plpgsqlErrorOffset(body: string, message: string, statementWith: (bodyText: string) => string): number {
  const lines = body.split('\n');
  const fails = (k: number) => {
    try {
      parsePlPgSQLSync(statementWith(lines.slice(0, k).join('\n')));
      return false;
    } catch (e) {
      return (e as Error).message === message;
    }
  };
  let lo = 1;
  let hi = lines.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (fails(mid)) hi = mid;
    else lo = mid + 1;
  }
  const line = lines[lo - 1] ?? '';
  const lineStart = Buffer.byteLength(
    lines
      .slice(0, lo - 1)
      .map((l) => `${l}\n`)
      .join(''),
    'utf8',
  );
  const near = /at or near "(.*)"$/.exec(message)?.[1] ?? /^"(.*)" is not a known variable/.exec(message)?.[1];
  let col = near !== undefined ? line.indexOf(near) : -1;
  if (col < 0) col = line.length - line.trimStart().length;
  return lineStart + Buffer.byteLength(line.slice(0, col), 'utf8');
}
