import { builtinFunctions } from './builtins';
import type { Definition, Diagnostic } from './definitions';
import { identValue, isNameToken, parseSync, quoteIdent, scanTokens, type ScanToken } from './parser';
import { isPolymorphic } from './pseudoTypes';
import { builtinCandidates, operatorResult, resolveCall, type CallArgument, type Candidate } from './resolve';
import type { PlExpression } from './plpgsql';
import { formatTypeName, type TypeNameNode } from './types';

/** A call to another managed definition (or to the definition itself), found in the parse tree. */
export interface CallSite {
  /** where the positions are: the file (defaults, SQL-standard bodies) or the body string */
  space: 'file' | 'body';
  /** byte span of the (qualified) function name */
  start: number;
  end: number;
  callee: Definition;
  /** ` AS name` after the call, where PostgreSQL would have named a column or alias after it */
  keepName: { at: number; text: string } | null;
  /** the FuncCall node of the tree it was found in */
  node: object;
}

/**
 * A parameter qualified with the function's own name (`get_line.id`, as PostgreSQL allows in SQL
 * and PL/pgSQL bodies): the qualifier is renamed with the function, in the created source only.
 */
export interface OwnNameQualifier {
  space: 'file' | 'body';
  start: number;
  end: number;
}

export interface FoundReferences {
  calls: CallSite[];
  ownName: OwnNameQualifier[];
}

export interface CallContext {
  byName: Map<string, Definition[]>;
  /** the search path unqualified names resolve through, unless a definition sets its own */
  searchPath: string[];
  diagnostics: Diagnostic[];
  warnings: Diagnostic[];
  /** `schema.name(args)` of the definitions kept as forwarders under their logical names */
  entryPoints: Set<string>;
}

type Node = Record<string, unknown>;

interface FuncCallNode {
  funcname: { String: { sval: string } }[];
  args?: Node[];
  agg_star?: boolean;
  func_variadic?: boolean;
  location: number;
}

interface FoundCall {
  node: FuncCallNode;
  /** its statement reads tables, whose columns may have a parameter's name */
  columns: boolean;
  /** `casts`: the column's value is the call under that many `::type` / CAST(… AS type) */
  keep: { kind: 'range' | 'column'; ordinality: boolean; casts: number } | null;
}

const rangeKeys = new Set(['RangeVar', 'RangeFunction', 'RangeSubselect', 'RangeTableFunc', 'JoinExpr']);

/**
 * Whether a tree reads a table, function or subquery whose columns a bare name could mean.
 * `own`: a FROM function whose arguments are being typed; its own result columns are not in
 * scope there (only earlier FROM items and outer queries are), so it does not count by itself.
 */
function readsTables(n: unknown, own?: object): boolean {
  if (Array.isArray(n)) return n.some((x) => readsTables(x, own));
  if (!n || typeof n !== 'object') return false;
  // for…in, not Object.entries: these walks visit every node of every tree the compiler reads
  for (const k in n as Node) {
    const v = (n as Node)[k];
    if ((rangeKeys.has(k) && v !== own) || readsTables(v, own)) return true;
  }
  return false;
}

/** Every FuncCall in a tree, with whether a column or FROM alias would be named after it. */
function funcCalls(root: unknown, artificialSelect: boolean): FoundCall[] {
  if (Array.isArray(root)) return root.flatMap((r) => funcCalls(r, artificialSelect));
  const out: FoundCall[] = [];
  const keep = new Map<object, FoundCall['keep']>();
  const skipTargets = new Set<object>();
  if (artificialSelect) {
    const select = (root as Node | undefined)?.['SelectStmt'] as Node | undefined;
    for (const t of (select?.['targetList'] as Node[] | undefined) ?? []) skipTargets.add(t['ResTarget'] as object);
  }
  const visit = (n: unknown, columns: boolean): void => {
    if (Array.isArray(n)) {
      for (const x of n) visit(x, columns);
      return;
    }
    if (!n || typeof n !== 'object') return;
    for (const k in n as Node) {
      const v = (n as Node)[k];
      if (k === 'RangeFunction') {
        const rf = v as Node;
        const first = ((rf['functions'] as Node[] | undefined)?.[0]?.['List'] as Node | undefined)?.['items'] as Node[] | undefined;
        const fc = first?.[0]?.['FuncCall'];
        if (fc && !rf['alias'] && !rf['coldeflist'] && !rf['is_rowsfrom']) keep.set(fc, { kind: 'range', ordinality: rf['ordinality'] === true, casts: 0 });
      } else if (k === 'ResTarget') {
        const rt = v as Node;
        // PostgreSQL names the column after a function call, also under casts (FigureColname).
        let val = rt['val'] as Node | undefined;
        let casts = 0;
        while (val?.['TypeCast']) {
          val = (val['TypeCast'] as Node)['arg'] as Node | undefined;
          casts++;
        }
        const fc = val?.['FuncCall'];
        if (fc && rt['name'] === undefined && !skipTargets.has(rt)) keep.set(fc, { kind: 'column', ordinality: false, casts });
      } else if (k === 'FuncCall') {
        out.push({ node: v as FuncCallNode, columns, keep: keep.get(v as object) ?? null });
      } else if (k === 'CallStmt') {
        // CALL's FuncCall comes without its node wrapper.
        const fc = (v as Node)['funccall'];
        if (fc) out.push({ node: fc as FuncCallNode, columns, keep: null });
      }
      // `SELECT * FROM f(x)`: x cannot be a column of f's own result.
      visit(v, columns && k === 'RangeFunction' ? readsTables(root, v as object) : columns);
    }
  };
  visit(root, readsTables(root));
  return out;
}

/** Whether a statement has a FROM item, alias or CTE called `name`, whose columns `name.x` would mean instead. */
function namesRangeItem(n: unknown, name: string): boolean {
  if (Array.isArray(n)) return n.some((x) => namesRangeItem(x, name));
  if (!n || typeof n !== 'object') return false;
  for (const k in n as Node) {
    const v = (n as Node)[k] as Node;
    if (rangeKeys.has(k) || k === 'CommonTableExpr') {
      const alias = (v['alias'] as { aliasname?: string } | undefined)?.aliasname;
      const first = ((v['functions'] as Node[] | undefined)?.[0]?.['List'] as Node | undefined)?.['items'] as Node[] | undefined;
      const fnName = ((first?.[0]?.['FuncCall'] as FuncCallNode | undefined)?.funcname ?? []).map((x) => x.String.sval).pop();
      if ([alias, v['relname'], v['ctename'], fnName].includes(name)) return true;
    }
    if (namesRangeItem(v, name)) return true;
  }
  return false;
}

/** Locations of `fname.param` column references in a tree, where `fname` is the definition's own name. */
function ownNameReferences(tree: unknown, def: Definition): number[] {
  const params = new Set(def.params.map((p) => p.name).filter((n) => n !== null));
  if (params.size === 0) return [];
  // In SQL a column wins: a FROM item of that name makes `name.x` its column.
  if (def.language !== 'plpgsql' && namesRangeItem(tree, def.name)) return [];
  const out: number[] = [];
  walk(tree, (k, v) => {
    if (k !== 'ColumnRef') return false;
    const fields = ((v as Node)['fields'] as Node[] | undefined) ?? [];
    const [q, p] = fields.map((f) => (f['String'] as { sval?: string } | undefined)?.sval);
    if (fields.length === 2 && q === def.name && p !== undefined && params.has(p)) out.push((v as Node)['location'] as number);
    return false;
  });
  return out;
}

/** Index of the token starting at `at` (tokens sorted by start), or -1. */
function tokenAt(tokens: ScanToken[], at: number): number {
  let lo = 0;
  let hi = tokens.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const s = tokens[mid]!.start;
    if (s === at) return mid;
    if (s < at) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

function closingParen(tokens: ScanToken[], open: number): number {
  let depth = 0;
  for (let i = open; i < tokens.length; i++) {
    const t = tokens[i]!.text;
    if (t === '(') depth++;
    else if (t === ')' && --depth === 0) return i;
  }
  return -1;
}

const SELECT = 'SELECT ';

/**
 * PERFORM's query is the statement's text with PERFORM spelled SELECT and the whitespace after it
 * kept (`PERFORM⏎  f()` → `SELECT⏎  f()`): the body's own text starts after that whitespace.
 */
function performed(query: string): { prefix: number; verbatim: string } {
  const verbatim = query.slice('SELECT'.length).replace(/^[ \t\n\r\f\v]+/, '');
  return { prefix: query.length - verbatim.length, verbatim };
}

/**
 * How to parse one PL/pgSQL expression with the core parser, and which bytes of the body it
 * was copied from: PL/pgSQL copies statement text verbatim (INTO blanked, PERFORM → SELECT).
 * `target := expr` is parsed as a select list: `assignAt` is the operator's offset in the query.
 */
function plParseForm(
  e: PlExpression,
  assignAt: () => { at: number; length: number } | null,
): { text: string; prefix: number; verbatim: string; artificial: boolean } | null {
  if (e.parseMode === 0) {
    if (e.perform) return { text: e.query, ...performed(e.query), artificial: true };
    return { text: e.query, prefix: 0, verbatim: e.query, artificial: false };
  }
  if (e.parseMode === 2) return { text: SELECT + e.query, prefix: SELECT.length, verbatim: e.query, artificial: true };
  if (e.parseMode >= 3 && e.parseMode <= 5) {
    const op = assignAt();
    if (!op) return null;
    // The operator becomes a comma of the same length: positions stay where they were.
    const bytes = Buffer.from(e.query, 'utf8');
    bytes.fill(0x20, op.at, op.at + op.length);
    bytes[op.at] = 0x2c;
    return { text: SELECT + bytes.toString('utf8'), prefix: SELECT.length, verbatim: e.query, artificial: true };
  }
  return null;
}

/** Words after which a select-list item ends: where ` AS name` can go. */
const itemEnds = new Set([
  ',',
  ')',
  ';',
  'from',
  'into',
  'where',
  'group',
  'having',
  'window',
  'order',
  'limit',
  'offset',
  'union',
  'intersect',
  'except',
  'fetch',
  'for',
  'returning',
  'on',
]);

/**
 * The last token of the cast applied to what ends at token `end`: `::type` or the `)` of
 * CAST(… AS type). -1 when the end is not certain (the name is then not kept, with a warning).
 */
function afterCast(tokens: ScanToken[], end: number): number {
  const next = tokens[end + 1]?.text.toLowerCase();
  if (next === 'as') {
    // CAST(call AS type): the cast ends at the parenthesis that closes CAST(.
    let depth = 0;
    for (let i = end + 1; i < tokens.length; i++) {
      const t = tokens[i]!.text;
      if (t === '(') depth++;
      else if (t === ')' && depth-- === 0) {
        const following = tokens[i + 1]?.text.toLowerCase() ?? ';';
        return itemEnds.has(following) || following === '::' ? i : -1;
      }
    }
    return -1;
  }
  if (next !== '::') return -1;
  let i = end + 2;
  let last = -1;
  while (i < tokens.length) {
    const t = tokens[i]!;
    const word = t.text.toLowerCase();
    if (t.text === '(') {
      i = closingParen(tokens, i);
      if (i < 0) return -1;
      last = i++;
      continue;
    }
    if (word === '[' || word === ']' || word === '.' || t.tokenName === 'IDENT' || (t.keywordKind !== 0 && !itemEnds.has(word))) {
      last = i++;
      continue;
    }
    break;
  }
  const following = tokens[last + 1]?.text.toLowerCase() ?? ';';
  return last >= 0 && (itemEnds.has(following) || following === '::') ? last : -1;
}

/** The first top-level `:=` or `=` of an assignment that starts at byte `start` of the body. */
function assignmentOperator(tokens: ScanToken[], start: number, length: number): { at: number; length: number } | null {
  let depth = 0;
  for (let i = tokenAt(tokens, start); i >= 0 && i < tokens.length && tokens[i]!.start < start + length; i++) {
    const t = tokens[i]!.text;
    if (t === '(' || t === '[') depth++;
    else if (t === ')' || t === ']') depth--;
    else if (depth === 0 && (t === ':=' || t === '=')) return { at: tokens[i]!.start - start, length: tokens[i]!.end - tokens[i]!.start };
  }
  return null;
}

class BodyLocator {
  private readonly bytes: Buffer;
  private readonly lineStarts: number[] = [0];
  private readonly claimed = new Set<string>();

  constructor(
    text: string,
    private readonly tokens: ScanToken[],
  ) {
    this.bytes = Buffer.from(text, 'utf8');
    for (let i = 0; i < this.bytes.length; i++) if (this.bytes[i] === 0x0a) this.lineStarts.push(i + 1);
  }

  /** Byte offset where `verbatim` (spaces match anything: blanked INTO) starts at a token on or after `lineno`. */
  find(verbatim: string, lineno: number): number {
    const v = Buffer.from(verbatim, 'utf8');
    const from = this.lineStarts[Math.max(0, lineno - 1)] ?? 0;
    const at = this.scan(v, from);
    return at >= 0 ? at : this.scan(v, 0);
  }

  private scan(v: Buffer, from: number): number {
    let lo = 0;
    let hi = this.tokens.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.tokens[mid]!.start < from) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.tokens.length; i++) {
      const p = this.tokens[i]!.start;
      if (p + v.length > this.bytes.length) break;
      let ok = true;
      for (let j = 0; j < v.length; j++) {
        if (v[j] !== 0x20 && v[j] !== this.bytes[p + j]) {
          ok = false;
          break;
        }
      }
      const key = `${p}:${v.length}`;
      if (ok && !this.claimed.has(key)) {
        this.claimed.add(key);
        return p;
      }
    }
    return -1;
  }
}

const typeTextCache = new Map<string, string | null>();

/** A PL/pgSQL variable's declared type, as format_type() prints it. */
function declaredType(text: string): string | null {
  let t = typeTextCache.get(text);
  if (t === undefined) {
    try {
      const stmt = parseSync(`SELECT NULL::${text}`).stmts?.[0]?.stmt as unknown as Node;
      const target = ((stmt['SelectStmt'] as Node)['targetList'] as Node[])[0]!['ResTarget'] as Node;
      t = formatTypeName(((target['val'] as Node)['TypeCast'] as Node)['typeName'] as TypeNameNode, '');
    } catch {
      t = null;
    }
    typeTextCache.set(text, t);
  }
  return t;
}

/** What the compiler knows of names in a body: parameters and PL/pgSQL variables, by name. */
interface Scope {
  names: Map<string, string | null>;
  positional: string[];
}

function scopeOf(def: Definition): Scope {
  const names = new Map<string, string | null>();
  for (const p of def.params) if (p.name) names.set(p.name, p.type);
  const datums = def.body.kind === 'string' ? (def.body.plpgsql?.datums ?? []) : [];
  for (const d of datums as Node[]) {
    const v = (d['PLpgSQL_var'] ?? d['PLpgSQL_rec']) as { refname?: string; datatype?: { PLpgSQL_type?: { typname?: string } } } | undefined;
    if (!v?.refname || (names.has(v.refname) && def.params.some((p) => p.name === v.refname))) continue;
    const typname = v.datatype?.PLpgSQL_type?.typname;
    names.set(v.refname, typname ? declaredType(typname) : null);
  }
  return { names, positional: def.params.map((p) => p.type) };
}

/** current_date, current_user …: the types PostgreSQL gives them. */
const sqlValueTypes: Record<string, string> = {
  SVFOP_CURRENT_DATE: 'date',
  SVFOP_CURRENT_TIME: 'time with time zone',
  SVFOP_CURRENT_TIME_N: 'time with time zone',
  SVFOP_CURRENT_TIMESTAMP: 'timestamp with time zone',
  SVFOP_CURRENT_TIMESTAMP_N: 'timestamp with time zone',
  SVFOP_LOCALTIME: 'time without time zone',
  SVFOP_LOCALTIME_N: 'time without time zone',
  SVFOP_LOCALTIMESTAMP: 'timestamp without time zone',
  SVFOP_LOCALTIMESTAMP_N: 'timestamp without time zone',
  SVFOP_CURRENT_ROLE: 'name',
  SVFOP_CURRENT_USER: 'name',
  SVFOP_USER: 'name',
  SVFOP_SESSION_USER: 'name',
  SVFOP_CURRENT_CATALOG: 'name',
  SVFOP_CURRENT_SCHEMA: 'name',
};

/**
 * What hash scheme 2 first typed `l op r` as (+ - * / by numeric widening, || as text), before
 * pg_catalog's operators: definitions already compiled depend on it, so it stands wherever it
 * answers from operand types known then, even where PostgreSQL differs (`date - date` is an
 * integer, not a date).
 */
function firstOperatorRules(op: string | undefined, l: string | null, r: string | null): string | null {
  if (op === '+' || op === '-' || op === '*' || op === '/') {
    if (l === null || r === null) return null;
    if (l === r) return l === 'unknown' ? null : l;
    if (l === 'unknown' || r === 'unknown') return l === 'unknown' ? r : l;
    const widening = ['smallint', 'integer', 'bigint', 'numeric', 'real', 'double precision'];
    const [a, b] = [widening.indexOf(l), widening.indexOf(r)];
    return a >= 0 && b >= 0 ? widening[Math.max(a, b)]! : null;
  }
  if (op === '||') {
    const stringy = (t: string | null) => t === 'text' || t === 'unknown' || t === 'character varying';
    if (l?.endsWith('[]') || r?.endsWith('[]')) return null;
    return stringy(l) || stringy(r) ? 'text' : null;
  }
  return null;
}

/**
 * The type of an argument expression, where it can be known without a catalog. `first`: only as
 * the first rules knew it (no current_date, no pg_catalog operators), see firstOperatorRules.
 */
function typeOf(node: Node | undefined, scope: Scope, ctx: CallContext, first = false): string | null {
  if (!node) return null;
  const [kind, value] = Object.entries(node)[0] ?? [];
  const v = value as Node;
  switch (kind) {
    case 'A_Const':
      if ('isnull' in v) return 'unknown';
      if ('ival' in v) return 'integer';
      if ('fval' in v) return 'numeric';
      if ('sval' in v) return 'unknown';
      if ('boolval' in v) return 'boolean';
      if ('bsval' in v) return 'bit';
      return null;
    case 'TypeCast':
      try {
        return formatTypeName(v['typeName'] as TypeNameNode, '');
      } catch {
        return null;
      }
    case 'ColumnRef': {
      const fields = (v['fields'] as Node[] | undefined) ?? [];
      const only = fields.length === 1 ? (fields[0]!['String'] as { sval?: string } | undefined)?.sval : undefined;
      return only !== undefined ? (scope.names.get(only) ?? null) : null;
    }
    case 'ParamRef':
      return scope.positional[((v['number'] as number | undefined) ?? 0) - 1] ?? null;
    case 'NamedArgExpr':
      return typeOf(v['arg'] as Node, scope, ctx, first);
    case 'SQLValueFunction':
      return first ? null : (sqlValueTypes[v['op'] as string] ?? null);
    case 'BoolExpr':
    case 'NullTest':
    case 'BooleanTest':
      return 'boolean';
    case 'A_Expr': {
      const op = ((v['name'] as Node[] | undefined)?.[0]?.['String'] as { sval?: string } | undefined)?.sval;
      if (v['kind'] !== 'AEXPR_OP') return null;
      if (op === '=' || op === '<>' || op === '<' || op === '>' || op === '<=' || op === '>=') return 'boolean';
      const known = firstOperatorRules(op, typeOf(v['lexpr'] as Node, scope, ctx, true), typeOf(v['rexpr'] as Node, scope, ctx, true));
      if (known !== null || first) return known;
      const l = typeOf(v['lexpr'] as Node, scope, ctx);
      const r = typeOf(v['rexpr'] as Node, scope, ctx);
      const qualified = ((v['name'] as Node[] | undefined)?.length ?? 0) > 1;
      return op !== undefined && l !== null && r !== null && !qualified ? operatorResult(op, l, r) : null;
    }
    case 'FuncCall': {
      const names = ((v['funcname'] as { String: { sval: string } }[]) ?? []).map((n) => n.String.sval);
      const name = names[names.length - 1] ?? '';
      const managed = ctx.byName.get(name);
      if (managed) {
        // Every managed function of that name returns the same type (and no built-in shares the name).
        const returns = new Set(managed.map((d) => d.returns));
        const only = returns.size === 1 ? [...returns][0]! : null;
        return only && builtinFunctions(name).length === 0 && !isPolymorphic(only) ? only : null;
      }
      if (names.length === 2 && names[0] !== 'pg_catalog') return null;
      const returns = new Set(builtinFunctions(name).map((s) => s.returns));
      const only = returns.size === 1 ? [...returns][0]! : null;
      return only && !only.startsWith('setof ') && !isPolymorphic(only) ? only : null;
    }
    case 'A_ArrayExpr': {
      const elements = ((v['elements'] as Node[] | undefined) ?? []).map((e) => typeOf(e, scope, ctx, first));
      const known = new Set(elements.filter((t) => t !== 'unknown'));
      if (elements.includes(null) || known.size !== 1) return null;
      const element = [...known][0]!;
      return element.endsWith('[]') ? element : `${element}[]`;
    }
    case 'A_Indirection': {
      const base = typeOf(v['arg'] as Node, scope, ctx, first);
      const subscripts = ((v['indirection'] as Node[] | undefined) ?? []).every((i) => 'A_Indices' in i && !(i['A_Indices'] as Node)['is_slice']);
      return base?.endsWith('[]') && subscripts ? base.slice(0, -2) : null;
    }
    default:
      return null;
  }
}

function candidateOf(d: Definition): Candidate<Definition> {
  return { target: d, label: `${d.schema}.${d.name}(${d.args})`, schema: d.schema, params: d.params };
}

/**
 * Which managed definition a call goes to, by PostgreSQL's rules: a qualified name in its schema;
 * an unqualified one through pg_catalog (first unless the path places it) and the search path.
 */
function resolveSite(def: Definition, fc: FuncCallNode, scope: Scope, ctx: CallContext, where: () => string): Definition | null {
  const names = fc.funcname.map((n) => n.String.sval);
  const name = names[names.length - 1]!;
  const sameName = ctx.byName.get(name);
  if (!sameName || names.length > 2 || fc.agg_star) return null;
  const schema = names.length === 2 ? names[0]! : null;
  const path = def.searchPath ?? ctx.searchPath;
  const schemaOrder = path.includes('pg_catalog') ? path : ['pg_catalog', ...path];
  const managed = sameName.filter((d) => (schema === null ? path.includes(d.schema) : d.schema === schema));
  if (managed.length === 0) {
    if (schema === null && builtinFunctions(name).length === 0) {
      const elsewhere = [...new Set(sameName.map((d) => d.schema))].map((s) => `${s}.${name}`).join(', ');
      ctx.warnings.push({
        where: where(),
        message: `${name}(…) is not on the search path (${path.join(', ')}), so it is not rewritten to ${elsewhere}; qualify the call, give the function SET search_path, or compile with --search-path`,
      });
    }
    return null;
  }
  const builtins = schema === null || schema === 'pg_catalog' ? builtinCandidates(name) : [];
  const candidates: Candidate<Definition>[] = [...managed.map(candidateOf), ...builtins];
  const args: CallArgument[] = (fc.args ?? []).map((a) => {
    const named = a['NamedArgExpr'] as { name?: string } | undefined;
    return { name: named?.name ?? null, type: typeOf(a, scope, ctx) };
  });
  const label = `${schema ? `${schema}.` : ''}${name}`;
  const r = resolveCall(candidates, schemaOrder, args, fc.func_variadic === true);
  if (r.kind === 'chosen') return r.candidate.target;
  if (r.kind === 'none') {
    if (builtins.length > 0) return null; // PostgreSQL reports it, if nothing else fits at run time
    ctx.diagnostics.push({
      where: where(),
      message: `call to ${label} with ${args.length} argument(s) matches none of its managed overloads: ${managed.map((d) => `${d.schema}.${d.name}(${d.args})`).join('; ')}`,
    });
    return null;
  }
  if (r.candidates.every((c) => c.target === null)) return null;
  ctx.diagnostics.push({
    where: where(),
    message: `call to ${label} with ${args.length} argument(s) could go to ${r.candidates.map((c) => c.label).join(' or ')}: ${r.reason} (e.g. ${label}(x::${r.candidates.find((c) => c.target)?.params[0]?.type ?? 'type'})) or qualify the name`,
  });
  return null;
}

/** Names of managed definitions that appear as `name(` in a token list (a cheap pre-filter). */
function mentionsManaged(tokens: ScanToken[], byName: Map<string, Definition[]>): Set<string> {
  const found = new Set<string>();
  for (let i = 0; i + 1 < tokens.length; i++) {
    const t = tokens[i]!;
    if (tokens[i + 1]!.text === '(' && isNameToken(t) && byName.has(identValue(t))) found.add(identValue(t));
  }
  return found;
}

/**
 * Managed names called in a dynamic SQL string (`EXECUTE '… app.audit(7)'`): never rewritten, so
 * they fail at run time unless every definition the name may mean is an entry point.
 */
function dynamicMentions(sql: string, byName: Map<string, Definition[]>, entryPoints: Set<string>): string[] {
  let tokens: ScanToken[];
  try {
    tokens = scanTokens(sql);
  } catch {
    return [];
  }
  const out: string[] = [];
  for (let i = 0; i + 1 < tokens.length; i++) {
    const t = tokens[i]!;
    if (tokens[i + 1]!.text !== '(' || !isNameToken(t)) continue;
    const defs = byName.get(identValue(t));
    if (!defs) continue;
    const qualifier = tokens[i - 1]?.text === '.' && isNameToken(tokens[i - 2]) ? identValue(tokens[i - 2]!) : null;
    const named = qualifier === null ? defs : defs.filter((d) => d.schema === qualifier);
    const shown = named.length > 0 ? named : defs;
    if (shown.every((d) => entryPoints.has(`${d.schema}.${d.name}(${d.args})`))) continue;
    out.push(`${shown[0]!.schema}.${shown[0]!.name}`);
  }
  return out;
}

/** Walks a parse tree: `visit` sees each node under its key; returning true skips what is under it. */
function walk(root: unknown, visit: (key: string, value: unknown) => boolean | undefined): void {
  if (Array.isArray(root)) {
    for (const x of root) walk(x, visit);
    return;
  }
  if (!root || typeof root !== 'object') return;
  for (const k in root as Node) {
    const v = (root as Node)[k];
    if (visit(k, v) !== true) walk(v, visit);
  }
}

/**
 * The functions of CREATE TRIGGER and CREATE EVENT TRIGGER statements in a tree (a body that
 * creates triggers): not calls, so not rewritten, and the trigger would name the logical name.
 */
function triggerFunctions(root: unknown, into: string[][]): void {
  walk(root, (k, v) => {
    if (k !== 'CreateTrigStmt' && k !== 'CreateEventTrigStmt') return false;
    into.push(((v as Node)['funcname'] as { String: { sval: string } }[]).map((n) => n.String.sval));
    return true;
  });
}

function stringConstants(root: unknown, into: { sval: string; location: number }[]): void {
  walk(root, (k, v) => {
    if (k !== 'A_Const' || !(v as Node)['sval']) return false;
    const c = v as { sval: { sval?: string }; location: number };
    into.push({ sval: c.sval.sval ?? '', location: c.location });
    return true;
  });
}

/** Strings passed to format(), anywhere in a tree. */
function formatStrings(calls: FoundCall[], into: { sval: string; location: number }[]): void {
  for (const c of calls) {
    const names = c.node.funcname.map((n) => n.String.sval);
    if (names[names.length - 1] === 'format' && (names.length === 1 || names[0] === 'pg_catalog')) stringConstants(c.node.args ?? [], into);
  }
}

/**
 * Finds every call in `def` (parameter defaults, SQL-standard body, SQL or PL/pgSQL body) that
 * PostgreSQL would send to a managed definition, from the parse trees.
 */
export function findCalls(def: Definition, ctx: CallContext): FoundReferences {
  const sites: CallSite[] = [];
  const ownName: OwnNameQualifier[] = [];
  if (def.body.kind === 'opaque' && !(def.ast.parameters ?? []).some((p) => p.FunctionParameter.defexpr)) return { calls: sites, ownName };
  const scope = scopeOf(def);
  // In SQL functions a column wins over a parameter of the same name (and in PL/pgSQL with
  // #variable_conflict use_column): where a statement reads tables, a bare name's type is unknown.
  const columnsWin = def.language !== 'plpgsql' || (def.body.kind === 'string' && def.body.text.includes('variable_conflict'));
  const positionalOnly: Scope = { names: new Map(), positional: scope.positional };
  const dynamicStrings: { space: 'file' | 'body'; sval: string; at: number }[] = [];
  const createdTriggers: { space: 'file' | 'body'; at: number; funcname: string[] }[] = [];
  const triggersIn = (tree: unknown, space: 'file' | 'body', at: number) => {
    const found: string[][] = [];
    triggerFunctions(tree, found);
    for (const funcname of found) createdTriggers.push({ space, at, funcname });
  };

  const take = (found: FoundCall[], tokens: ScanToken[], space: 'file' | 'body', toSpace: (loc: number) => number, whereOf: (at: number) => string) => {
    for (const f of found) {
      const names = f.node.funcname.map((n) => n.String.sval);
      if (!ctx.byName.has(names[names.length - 1]!)) continue;
      const at = toSpace(f.node.location);
      const callee = resolveSite(def, f.node, f.columns && columnsWin ? positionalOnly : scope, ctx, () => whereOf(at));
      if (!callee) continue;
      const first = tokenAt(tokens, at);
      const last = first + 2 * (names.length - 1);
      const open = last + 1;
      if (first < 0 || tokens[open]?.text !== '(') {
        ctx.diagnostics.push({ where: whereOf(at), message: `procver could not find the call to ${names.join('.')} in the text to rewrite it` });
        continue;
      }
      let keepName: CallSite['keepName'] = null;
      if (f.keep) {
        let after = closingParen(tokens, open);
        if (f.keep.ordinality && tokens[after + 1]?.text.toLowerCase() === 'with' && tokens[after + 2]?.text.toLowerCase() === 'ordinality') after += 2;
        for (let c = 0; c < f.keep.casts && after >= 0; c++) after = afterCast(tokens, after);
        const name = names[names.length - 1]!;
        if (after >= 0) keepName = { at: tokens[after]!.end, text: ` AS ${quoteIdent(name)}` };
        else {
          ctx.warnings.push({
            where: whereOf(at),
            message: `the column named after ${names.join('.')} would be named after its physical name once rewritten; write AS ${quoteIdent(name)} after the expression`,
          });
        }
      }
      sites.push({ space, start: tokens[first]!.start, end: tokens[last]!.end, callee, keepName, node: f.node });
    }
  };
  const fileWhere = (at: number) => def.source.where(at);
  // A label of the function's name inside a PL/pgSQL body would take `name.x` over: left alone then.
  const bodyTokens = def.body.kind === 'string' ? def.body.tokens : [];
  const relabeled =
    def.language === 'plpgsql' && bodyTokens.some((t, i) => t.text === '<<' && isNameToken(bodyTokens[i + 1]) && identValue(bodyTokens[i + 1]!) === def.name);
  // Only text with `<its name>.` in it can qualify a parameter by the function's name: the tree
  // walk is skipped elsewhere (most definitions), decided once per token list.
  const qualifiesByName = new Map<ScanToken[], boolean>();
  const mayQualify = (tokens: ScanToken[]) => {
    let known = qualifiesByName.get(tokens);
    if (known === undefined) {
      known = tokens.some((t, i) => tokens[i + 1]?.text === '.' && isNameToken(t) && identValue(t) === def.name);
      qualifiesByName.set(tokens, known);
    }
    return known;
  };
  const qualifiers = (tree: unknown, tokens: ScanToken[], space: 'file' | 'body', toSpace: (loc: number) => number) => {
    if (relabeled || !mayQualify(tokens)) return;
    for (const loc of ownNameReferences(tree, def)) {
      const t = tokens[tokenAt(tokens, toSpace(loc))];
      if (t) ownName.push({ space, start: t.start, end: t.end });
    }
  };

  for (const p of def.ast.parameters ?? []) {
    const expr = p.FunctionParameter.defexpr;
    if (expr) take(funcCalls(expr, false), def.tokens, 'file', (l) => l, fileWhere);
  }
  const body = def.body;
  if (body.kind === 'atomic') {
    qualifiers(def.ast.sql_body, def.tokens, 'file', (l) => l);
    const found = funcCalls(def.ast.sql_body, false);
    take(found, def.tokens, 'file', (l) => l, fileWhere);
    triggersIn(def.ast.sql_body, 'file', body.tokens[0]?.start ?? 0);
    const strings: { sval: string; location: number }[] = [];
    formatStrings(found, strings);
    for (const s of strings) dynamicStrings.push({ space: 'file', sval: s.sval, at: s.location });
  }
  if (body.kind !== 'string') return finish();
  const bodyWhere = (at: number) => (body.contentOffset !== null ? def.source.where(body.contentOffset + at) : def.source.where(body.token.start));

  if (body.language === 'sql') {
    if (body.parsed) qualifiers(body.parsed, body.tokens, 'body', (l) => l);
    if (!body.parsed || (mentionsManaged(body.tokens, ctx.byName).size === 0 && !body.text.includes('format'))) return finish();
    const found = funcCalls(body.parsed, false);
    take(found, body.tokens, 'body', (l) => l, bodyWhere);
    triggersIn(body.parsed, 'body', body.tokens[0]?.start ?? 0);
    const strings: { sval: string; location: number }[] = [];
    formatStrings(found, strings);
    for (const s of strings) dynamicStrings.push({ space: 'body', sval: s.sval, at: s.location });
    return finish();
  }
  if (!body.plpgsql) return finish();
  const mentioned = mentionsManaged(body.tokens, ctx.byName);
  const expressions = body.plpgsql.expressions;
  const locator = new BodyLocator(body.parseText, body.tokens);
  for (const e of expressions) {
    const folded = e.query.toLowerCase();
    const relevant = [...mentioned].some((n) => e.query.includes(n) || folded.includes(n));
    const dynamicRelevant = e.dynamic || e.query.includes('format');
    if (!relevant && !dynamicRelevant && !e.query.includes(def.name) && !folded.includes(def.name)) continue;
    const verbatim = e.perform ? performed(e.query).verbatim : e.query;
    const start = locator.find(verbatim, e.lineno);
    const form = plParseForm(e, () => (start < 0 ? null : assignmentOperator(body.tokens, start, Buffer.byteLength(e.query, 'utf8'))));
    if (!form) continue;
    let tree: unknown;
    try {
      tree = parseSync(form.text).stmts?.[0]?.stmt;
    } catch {
      continue; // PostgreSQL parses it when the function first runs; libpg-query validated the body
    }
    const found = funcCalls(tree, form.artificial);
    if (start < 0) {
      if (found.some((f) => ctx.byName.has(f.node.funcname[f.node.funcname.length - 1]!.String.sval))) {
        ctx.diagnostics.push({ where: bodyWhere(0), message: `procver could not find the expression "${e.query}" in the body to rewrite its calls` });
      }
      continue;
    }
    const toBody = (loc: number) => start + loc - form.prefix; // byte offsets; the prefix is ASCII
    qualifiers(tree, body.tokens, 'body', toBody);
    take(found, body.tokens, 'body', toBody, bodyWhere);
    triggersIn(tree, 'body', start);
    const strings: { sval: string; location: number }[] = [];
    if (e.dynamic) stringConstants(tree, strings);
    else formatStrings(found, strings);
    for (const s of strings) dynamicStrings.push({ space: 'body', sval: s.sval, at: toBody(s.location) });
  }
  return finish();

  function finish(): FoundReferences {
    for (const s of dynamicStrings) {
      for (const name of new Set(dynamicMentions(s.sval, ctx.byName, ctx.entryPoints))) {
        const where = s.space === 'file' ? fileWhere(s.at) : bodyWhere(s.at);
        ctx.warnings.push({
          where,
          message: `dynamic SQL calls ${name}, which exists only under versioned names: procver cannot rewrite a call inside a string, so it fails at run time (call it directly, or through an entry point)`,
        });
      }
    }
    for (const t of createdTriggers) {
      const name = t.funcname[t.funcname.length - 1]!;
      const path = def.searchPath ?? ctx.searchPath;
      const defs = (ctx.byName.get(name) ?? []).filter((d) => d.args === '' && (t.funcname.length === 1 ? path.includes(d.schema) : d.schema === t.funcname[0]));
      if (defs.length === 0) continue;
      ctx.warnings.push({
        where: t.space === 'file' ? fileWhere(t.at) : bodyWhere(t.at),
        message: `a trigger this body creates executes ${defs[0]!.schema}.${name}, which exists only under versioned names: procver does not rewrite the function of a trigger created at run time, so creating it fails (declare the trigger in the sources, where push binds it to the version)`,
      });
    }
    return { calls: sites, ownName };
  }
}
