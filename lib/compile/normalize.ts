import type { CallSite } from './calls';
import type { CreateFunctionStmt } from './definitions';
import { isComment, KEYWORD, type ScanToken } from './parser';

/**
 * A body as a token sequence: comments and whitespace gone, keywords and unquoted identifiers
 * lower-cased (PostgreSQL folds them), literals verbatim. Each call site becomes one token
 * (`replacement(callee)`), so a callee's new physical name changes the caller's normal form.
 */
export function normalizeTokens(tokens: ScanToken[], calls: CallSite[], replacement: (call: CallSite) => string): string {
  const out: string[] = [];
  let call = 0;
  const sorted = [...calls].sort((a, b) => a.start - b.start);
  for (const t of tokens) {
    if (isComment(t)) continue;
    const c = sorted[call];
    if (c && t.start >= c.start && t.end <= c.end) {
      if (t.end === c.end) {
        out.push(replacement(c));
        call++;
      }
      continue;
    }
    const folds = t.keywordKind !== KEYWORD.none || (t.tokenName === 'IDENT' && !t.text.startsWith('"'));
    out.push(folds ? t.text.toLowerCase() : t.text);
  }
  return out.join(' ');
}

/** Drops parser positions, recursively: they change with formatting, not meaning. */
function withoutLocations(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutLocations);
  if (node && typeof node === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(node).sort()) {
      if (key === 'location' || key === 'stmt_location' || key === 'stmt_len') continue;
      out[key] = withoutLocations((node as Record<string, unknown>)[key]);
    }
    return out;
  }
  return node;
}

/**
 * The normalized definition that is hashed: the statement's syntax tree without positions,
 * without its own name and OR REPLACE, options in a stable order, and the body in token form.
 */
export function normalizedDefinition(ast: CreateFunctionStmt, schema: string, normalizedBody: string | null): string {
  const options = (ast.options ?? [])
    .filter((o) => !(normalizedBody !== null && o.DefElem.defname === 'as'))
    .map((o) => withoutLocations(o))
    .map((o) => JSON.stringify(o))
    .sort();
  const tree = withoutLocations({
    kind: ast.is_procedure ? 'procedure' : 'function',
    schema,
    parameters: ast.parameters ?? [],
    returnType: ast.returnType ?? null,
  }) as Record<string, unknown>;
  return JSON.stringify({ ...tree, options: options.map((o) => JSON.parse(o)), body: normalizedBody });
}
