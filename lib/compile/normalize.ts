import type { CallSite } from './calls';
import type { CreateFunctionStmt } from './definitions';
import { KEYWORD, parseSync, quoteIdent, type ScanToken } from './parser';

/**
 * Version of the rules below. It is part of every normalized definition (so of every hash): a
 * change of rules gives every procedure a new physical name instead of ever binding an existing
 * name to other code. Bump it whenever the normal form of any definition changes.
 */
export const HASH_SCHEME = 2;

/** Type names a body may spell two ways, in the spelling format_type() uses. */
const typeAliases: Record<string, string> = {
  int: 'integer',
  int4: 'integer',
  int2: 'smallint',
  int8: 'bigint',
  float4: 'real',
  float8: 'double precision',
  bool: 'boolean',
  varchar: 'character varying',
  timestamptz: 'timestamp with time zone',
  timetz: 'time with time zone',
  decimal: 'numeric',
  dec: 'numeric',
  varbit: 'bit varying',
};

const stringCache = new Map<string, string>();

/** A string literal's value, quoted one way: 'a', $q$a$q$, E'a' and 'a' -- c⏎ '' are all 'a'. */
function canonicalString(text: string): string {
  let out = stringCache.get(text);
  if (out !== undefined) return out;
  let value: string | null = null;
  if (text.startsWith('$')) {
    const tag = text.slice(0, text.indexOf('$', 1) + 1);
    value = text.slice(tag.length, text.length - tag.length);
  } else if (text.startsWith("'")) {
    value = '';
    let i = 0;
    while (i < text.length && text[i] === "'") {
      i++;
      for (;;) {
        const q = text.indexOf("'", i);
        if (q < 0) return text;
        value += text.slice(i, q);
        if (text[q + 1] === "'") {
          value += "'";
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      while (i < text.length && text[i] !== "'") i++; // whitespace (and -- comments) of a continuation
    }
  } else {
    try {
      const stmt = parseSync(`SELECT ${text}`).stmts?.[0]?.stmt as unknown as Record<string, Record<string, unknown>>;
      const target = (stmt['SelectStmt']!['targetList'] as Record<string, Record<string, unknown>>[])[0]!['ResTarget']!;
      value = ((target['val'] as Record<string, Record<string, { sval?: string }>>)['A_Const']!['sval']!.sval ?? '') as string;
    } catch {
      value = null;
    }
  }
  out = value === null ? text : `'${value.replaceAll("'", "''")}'`;
  if (stringCache.size < 100_000) stringCache.set(text, out);
  return out;
}

function tokenText(t: ScanToken): string {
  if (t.tokenName === 'SCONST') return canonicalString(t.text);
  if (t.tokenName === 'IDENT' && t.text.startsWith('"')) {
    const name = t.text.slice(1, -1).replaceAll('""', '"');
    return quoteIdent(name) === name ? name : t.text; // quotes a name does not need
  }
  const folds = t.keywordKind !== KEYWORD.none || t.tokenName === 'IDENT';
  return folds ? t.text.toLowerCase() : t.text;
}

/**
 * A body as a token sequence: comments and whitespace gone, keywords and unquoted identifiers
 * lower-cased (PostgreSQL folds them), needless identifier quotes dropped, string literals in one
 * quoting, type aliases after `::` (and in PL/pgSQL declarations) in one spelling, trailing `;`
 * dropped. Each call site becomes one token (`replacement(callee)`), so a callee's new physical
 * name changes the caller's normal form.
 */
export function normalizeTokens(tokens: ScanToken[], calls: CallSite[], replacement: (call: CallSite) => string, plpgsql: boolean): string {
  const out: string[] = [];
  let call = 0;
  const sorted = [...calls].sort((a, b) => a.start - b.start);
  let end = tokens.length;
  while (end > 0 && tokens[end - 1]!.text === ';') end--;
  let inDeclare = false;
  let declarationAt = -1; // index in `out` where the current declaration started
  for (let i = 0; i < end; i++) {
    const t = tokens[i]!;
    const c = sorted[call];
    if (c && t.start >= c.start && t.end <= c.end) {
      if (t.end === c.end) {
        out.push(replacement(c));
        call++;
      }
      continue;
    }
    let text = tokenText(t);
    if (plpgsql) {
      if (text === 'declare') {
        inDeclare = true;
        declarationAt = out.length + 1;
      } else if (text === 'begin') inDeclare = false;
      else if (inDeclare && text === ';') declarationAt = out.length + 1;
      else if (inDeclare && typeAliases[text] && (out.length === declarationAt + 1 || (out.length === declarationAt + 2 && out[out.length - 1] === 'constant'))) {
        text = typeAliases[text]!;
      }
    }
    if (out[out.length - 1] === '::' && typeAliases[text]) text = typeAliases[text]!;
    out.push(text);
  }
  return out.join(' ');
}

type Node = Record<string, unknown>;

/** TypeName nodes: a built-in written by its internal name (int4, bool…) as the grammar qualifies it. */
const internalNames = new Set(['int2', 'int4', 'int8', 'float4', 'float8', 'bool', 'varchar', 'bpchar', 'timestamptz', 'timetz', 'varbit', 'numeric', 'interval']);

function canonicalTypeName(t: Node, inSignature: boolean, calls: Map<object, string>): Node {
  const out = canonicalTree(t, calls) as Node;
  const names = (out['names'] as { String: { sval: string } }[] | undefined) ?? [];
  if (names.length === 1 && internalNames.has(names[0]!.String.sval)) out['names'] = [{ String: { sval: 'pg_catalog' } }, names[0]];
  delete out['typemod'];
  if (inSignature) {
    // PostgreSQL keeps no typmods or array bounds for arguments and results: numeric(10,2) is numeric.
    delete out['typmods'];
    if (Array.isArray(out['arrayBounds']) && out['arrayBounds'].length > 0) out['arrayBounds'] = [{ Integer: { ival: -1 } }];
  }
  return out;
}

/** A tree without positions, keys sorted, type names canonical, managed calls as physical names. */
function canonicalTree(node: unknown, calls: Map<object, string>): unknown {
  if (Array.isArray(node)) return node.map((n) => canonicalTree(n, calls));
  if (!node || typeof node !== 'object') return node;
  const out: Node = {};
  for (const key of Object.keys(node).sort()) {
    if (key === 'location' || key === 'stmt_location' || key === 'stmt_len') continue;
    const value = (node as Node)[key];
    if (key === 'TypeName' && value && typeof value === 'object') out[key] = canonicalTypeName(value as Node, false, calls);
    else if (key === 'FuncCall' && calls.has(value as object)) {
      out[key] = { ...(canonicalTree(value, calls) as Node), funcname: calls.get(value as object) };
    } else out[key] = canonicalTree(value, calls);
  }
  return out;
}

function numberOf(arg: unknown): number | null {
  const a = arg as { Integer?: { ival?: number }; Float?: { fval?: string } } | undefined;
  if (a?.Integer) return a.Integer.ival ?? 0;
  if (a?.Float) return Number(a.Float.fval);
  return null;
}

/**
 * The normalized definition that is hashed: the statement's syntax tree without positions,
 * without its own name and OR REPLACE, with what PostgreSQL treats as the same written the same
 * way (type aliases, parameter typmods, IN, default attributes, RETURNS of OUT parameters), options in
 * a stable order, and the body in token form.
 */
export function normalizedDefinition(ast: CreateFunctionStmt, schema: string, language: string, normalizedBody: string | null, calls: Map<object, string>): string {
  const params = (ast.parameters ?? []).map((p) => {
    const fp = p.FunctionParameter;
    return {
      name: fp.name ?? null,
      mode: fp.mode === 'FUNC_PARAM_DEFAULT' ? 'FUNC_PARAM_IN' : fp.mode,
      type: canonicalTypeName(fp.argType as unknown as Node, true, calls),
      default: fp.defexpr === undefined ? null : canonicalTree(fp.defexpr, calls),
    };
  });
  const hasOut = params.some((p) => p.mode === 'FUNC_PARAM_OUT' || p.mode === 'FUNC_PARAM_INOUT');
  const returnsSet = ast.returnType?.setof === true || params.some((p) => p.mode === 'FUNC_PARAM_TABLE');
  // With OUT parameters the result type follows from them; RETURNS record or the one OUT type says nothing more.
  const returnType = ast.returnType && !(hasOut && !ast.returnType.setof) ? canonicalTypeName(ast.returnType as unknown as Node, true, calls) : null;
  const defaultCost = language === 'c' || language === 'internal' ? 1 : 100;
  const options = (ast.options ?? [])
    .map((o) => o.DefElem)
    .filter((o) => {
      const arg = o.arg as { String?: { sval?: string }; Boolean?: { boolval?: boolean } } | undefined;
      switch (o.defname) {
        case 'as':
          return normalizedBody === null;
        case 'volatility':
          return arg?.String?.sval !== 'volatile';
        case 'parallel':
          return arg?.String?.sval !== 'unsafe';
        case 'strict':
        case 'security':
        case 'leakproof':
        case 'window':
          return arg?.Boolean?.boolval === true;
        case 'cost':
          return numberOf(o.arg) !== defaultCost;
        case 'rows':
          return !(returnsSet && numberOf(o.arg) === 1000);
        default:
          return true;
      }
    })
    .map((o) => {
      const n = o.defname === 'cost' || o.defname === 'rows' ? numberOf(o.arg) : null;
      const value = o.defname === 'language' ? language : n !== null ? n : canonicalTree(o.arg, calls);
      const option = { [o.defname]: value ?? null };
      return { option, key: JSON.stringify(option) };
    })
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return JSON.stringify({
    hashScheme: HASH_SCHEME,
    kind: ast.is_procedure ? 'procedure' : 'function',
    schema,
    parameters: params,
    returnType,
    options: options.map((o) => o.option),
    body: normalizedBody,
  });
}
