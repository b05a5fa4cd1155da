import type { Definition, Diagnostic } from './definitions';
import { identValue, isComment, isNameToken, scanSync, type ScanToken } from './parser';

/** A call in a body to another managed definition (or to the definition itself). */
export interface CallSite {
  /** byte span relative to the token stream the call was found in */
  start: number;
  end: number;
  callee: Definition;
}

/** Keywords after which `name(` declares or names a table, not a call. */
const notACallAfter = new Set(['TABLE', 'INTO', 'FUNCTION', 'PROCEDURE', 'TYPE', 'INDEX', 'VIEW', 'ON', 'REFERENCES', 'UPDATE', 'ONLY']);

const scanned = new WeakMap<Definition, { tokens: ScanToken[]; error?: string }>();

/** The body's tokens, scanned once per definition (the scanner is the compiler's main cost). */
export function bodyTokens(def: Definition): { tokens: ScanToken[]; error?: string } {
  const cached = scanned.get(def);
  if (cached) return cached;
  const body = def.body;
  let result: { tokens: ScanToken[]; error?: string } = { tokens: [] };
  if (body.kind === 'atomic') result = { tokens: body.tokens };
  else if (body.kind === 'string') {
    try {
      result = { tokens: scanSync(body.text).tokens };
    } catch (e) {
      result = { tokens: [], error: (e as Error).message };
    }
  }
  scanned.set(def, result);
  return result;
}

/** Number of top-level arguments between the parenthesis at `open` and its match. */
function countArgs(tokens: ScanToken[], open: number): number | null {
  let depth = 0;
  let commas = 0;
  let sawAny = false;
  for (let i = open; i < tokens.length; i++) {
    const t = tokens[i]!.text;
    if (t === '(' || t === '[') depth++;
    else if (t === ')' || t === ']') {
      depth--;
      if (depth === 0) return sawAny ? commas + 1 : 0;
    } else if (depth === 1) {
      if (t === ',') commas++;
      sawAny = true;
    } else sawAny = true;
  }
  return null;
}

/**
 * Finds calls to managed definitions in `def`'s body: a name (optionally schema-qualified)
 * followed by `(`, matched against the source set by name, schema and argument count.
 */
export function findCalls(def: Definition, byName: Map<string, Definition[]>, diagnostics: Diagnostic[]): CallSite[] {
  const { tokens: all } = bodyTokens(def);
  const tokens = all.filter((t) => !isComment(t));
  const calls: CallSite[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (!isNameToken(t) || tokens[i + 1]?.text !== '(') continue;
    const name = identValue(t);
    const sameName = byName.get(name);
    if (!sameName) continue;
    const qualified = tokens[i - 1]?.text === '.' && isNameToken(tokens[i - 2]);
    if (tokens[i - 1]?.text === '.' && !qualified) continue; // e.g. (expr).name(
    const schema = qualified ? identValue(tokens[i - 2]!) : null;
    const first = qualified ? i - 2 : i;
    if (notACallAfter.has(tokens[first - 1]?.text.toUpperCase() ?? '')) continue;

    let candidates = sameName.filter((d) => (schema === null ? true : d.schema === schema));
    if (candidates.length === 0) continue; // another schema's function of the same name: not ours
    if (schema === null && new Set(candidates.map((d) => d.schema)).size > 1) {
      const own = candidates.filter((d) => d.schema === def.schema);
      candidates = own.length > 0 ? own : candidates.filter((d) => d.schema === 'public');
    }
    const n = countArgs(tokens, i + 1);
    const fitting = n === null ? candidates : candidates.filter((d) => n >= d.minArgs && n <= d.maxArgs);
    const at = callWhere(def, t);
    const label = `${schema ? `${schema}.` : ''}${name}`;
    if (fitting.length === 1) {
      calls.push({ start: tokens[first]!.start, end: t.end, callee: fitting[0]! });
    } else if (fitting.length === 0) {
      diagnostics.push({
        where: at,
        message: `call to ${label} with ${n} argument(s) matches none of its managed overloads: ${candidates
          .map((d) => `${d.schema}.${d.name}(${d.args})`)
          .join('; ')}`,
      });
    } else {
      diagnostics.push({
        where: at,
        message: `call to ${label} with ${n} argument(s) is ambiguous between managed overloads ${fitting
          .map((d) => `${d.schema}.${d.name}(${d.args})`)
          .join(' and ')}; procver resolves calls by name and argument count, so give overloads that call each other distinct argument counts`,
      });
    }
  }
  return calls;
}

function callWhere(def: Definition, t: ScanToken): string {
  const body = def.body;
  if (body.kind === 'atomic') return def.source.where(t.start);
  if (body.kind === 'string' && body.contentOffset !== null) return def.source.where(body.contentOffset + t.start);
  if (body.kind === 'string') return def.source.where(body.token.start);
  return def.where;
}
