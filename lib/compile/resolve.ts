import { builtinFunctions, builtinOperators, isBuiltinType } from './builtins';
import { isPolymorphic } from './pseudoTypes';

/**
 * Function resolution as PostgreSQL does it (parse_func.c / parse_coerce.c), as far as the
 * compiler can know the argument types: candidates by name, argument count and named arguments;
 * then an exact match, then implicit casts, preferring exact positions, non-polymorphic
 * candidates, string types for unknown literals and each category's preferred type.
 * Where PostgreSQL's choice depends on a type the compiler cannot know, it says so.
 */

export interface Candidate<T> {
  /** the managed definition, or null for a pg_catalog built-in */
  target: T | null;
  label: string;
  schema: string;
  params: { name: string | null; type: string; hasDefault: boolean; variadic: boolean }[];
}

/** An argument at a call: its type if the compiler can tell (`unknown` = an untyped literal). */
export interface CallArgument {
  type: string | null;
  name: string | null;
}

export type Resolution<T> = { kind: 'none' } | { kind: 'chosen'; candidate: Candidate<T> } | { kind: 'ambiguous'; candidates: Candidate<T>[]; reason: string };

/** pg_cast entries with castcontext 'i' between built-in types (PostgreSQL 15). */
const implicitCasts: Record<string, string[]> = {
  '"char"': ['text'],
  bigint: ['real', 'double precision', 'numeric', 'oid'],
  bit: ['bit varying'],
  'bit varying': ['bit'],
  character: ['text', 'character varying', 'name'],
  'character varying': ['text', 'character', 'name'],
  cidr: ['inet'],
  date: ['timestamp without time zone', 'timestamp with time zone'],
  integer: ['bigint', 'real', 'double precision', 'numeric', 'oid'],
  macaddr: ['macaddr8'],
  macaddr8: ['macaddr'],
  name: ['text'],
  numeric: ['real', 'double precision'],
  real: ['double precision'],
  smallint: ['bigint', 'integer', 'real', 'double precision', 'numeric', 'oid'],
  text: ['character', 'character varying', 'name'],
  'time without time zone': ['interval', 'time with time zone'],
  'timestamp without time zone': ['timestamp with time zone'],
};

const categories: Record<string, string> = {
  text: 'S',
  'character varying': 'S',
  character: 'S',
  name: 'S',
  '"char"': 'S',
  smallint: 'N',
  integer: 'N',
  bigint: 'N',
  numeric: 'N',
  real: 'N',
  'double precision': 'N',
  oid: 'N',
  date: 'D',
  'timestamp without time zone': 'D',
  'timestamp with time zone': 'D',
  boolean: 'B',
  interval: 'T',
  'bit varying': 'V',
  bit: 'V',
  inet: 'I',
  cidr: 'I',
};
const preferred = new Set(['text', 'double precision', 'oid', 'timestamp with time zone', 'boolean', 'interval', 'bit varying', 'inet']);

type Fit = 'exact' | 'implicit' | 'unknown-literal' | 'polymorphic' | 'maybe' | 'no';

function fit(actual: string | null, param: string): Fit {
  if (actual === null) return 'maybe';
  if (actual === param) return 'exact';
  if (actual === 'unknown') return param === 'anyarray' || param === 'anycompatiblearray' ? 'no' : 'unknown-literal';
  if (isPolymorphic(param)) {
    const isArray = actual.endsWith('[]');
    if ((param === 'anyarray' || param === 'anycompatiblearray') && !isArray) return 'no';
    if ((param === 'anynonarray' || param === 'anycompatiblenonarray') && isArray) return 'no';
    if (param.includes('range') || param === 'anyenum') return 'maybe';
    return 'polymorphic';
  }
  if (implicitCasts[actual]?.includes(param)) return 'implicit';
  if (actual.endsWith('[]') && param.endsWith('[]')) {
    // Arrays coerce element by element (parse_coerce.c: COERCION_PATH_ARRAYCOERCE).
    const element = fit(actual.slice(0, -2), param.slice(0, -2));
    return element === 'exact' ? 'implicit' : element;
  }
  // A user type (domain, enum, composite) may have casts or a base type we cannot see.
  if (!isBuiltinType(actual.endsWith('[]') ? actual.slice(0, -2) : actual)) return 'maybe';
  return 'no';
}

/**
 * The parameter type each argument binds to in `c` (positional, then named; VARIADIC spreads),
 * or null if the call cannot be bound to it at all.
 */
const polymorphicElement: Record<string, string> = { anyarray: 'anyelement', anycompatiblearray: 'anycompatible' };

function elementType(arrayType: string): string {
  return polymorphicElement[arrayType] ?? (arrayType.endsWith('[]') ? arrayType.slice(0, -2) : arrayType);
}

/** Whether binding the call to `c` spreads arguments over its VARIADIC parameter. */
function spreads(c: Candidate<unknown>, args: CallArgument[], variadicCall: boolean): boolean {
  const v = c.params.findIndex((p) => p.variadic);
  return v >= 0 && !variadicCall && args.filter((a) => a.name === null).length > v;
}

function bind(c: Candidate<unknown>, args: CallArgument[], variadicCall: boolean): string[] | null {
  const params = c.params;
  const firstNamed = args.findIndex((a) => a.name !== null);
  const positional = firstNamed < 0 ? args.length : firstNamed;
  if (args.slice(positional).some((a) => a.name === null)) return null;
  const v = params.findIndex((p) => p.variadic);
  const taken: boolean[] = params.map(() => false);
  const out: string[] = [];
  for (let i = 0; i < positional; i++) {
    if (v >= 0 && i >= v && !variadicCall) {
      out.push(elementType(params[v]!.type));
      taken[v] = true;
      continue;
    }
    if (i >= params.length) return null;
    out.push(params[i]!.type);
    taken[i] = true;
  }
  for (const a of args.slice(positional)) {
    const at = params.findIndex((p) => p.name === a.name);
    if (at < 0 || taken[at]) return null;
    taken[at] = true;
    out.push(params[at]!.type);
  }
  if (params.some((p, i) => !taken[i] && !p.hasDefault)) return null;
  if (variadicCall && (v < 0 || v !== positional - 1)) return null;
  return out;
}

/** The pg_catalog built-ins of that name, as candidates. */
export function builtinCandidates(name: string): Candidate<never>[] {
  return builtinFunctions(name).map((s) => ({
    target: null,
    label: `pg_catalog.${name}(${s.args.join(', ')})`,
    schema: 'pg_catalog',
    params: s.args.map((type, i) => ({
      name: null,
      type,
      hasDefault: i >= s.args.length - s.defaults,
      variadic: s.variadic && i === s.args.length - 1,
    })),
  }));
}

export function resolveCall<T>(candidates: Candidate<T>[], schemaOrder: string[], args: CallArgument[], variadicCall: boolean): Resolution<T> {
  const bound = candidates
    .map((c) => ({ c, types: bind(c as Candidate<unknown>, args, variadicCall) }))
    .filter((b): b is { c: Candidate<T>; types: string[] } => b.types !== null);
  // The same argument types in two schemas: the one earlier in the path hides the other.
  const rank = (s: string) => {
    const i = schemaOrder.indexOf(s);
    return i < 0 ? schemaOrder.length : i;
  };
  // ... and in one schema, a candidate that takes them as they are hides one that spreads them over VARIADIC.
  const spread = (c: Candidate<T>) => spreads(c as Candidate<unknown>, args, variadicCall);
  const visible = bound.filter(
    (b) =>
      !bound.some(
        (o) =>
          o !== b &&
          o.types.join(',') === b.types.join(',') &&
          (rank(o.c.schema) < rank(b.c.schema) || (rank(o.c.schema) === rank(b.c.schema) && spread(b.c) && !spread(o.c))),
      ),
  );
  if (visible.length === 0) return { kind: 'none' };
  const fits = visible.map((b) => ({ ...b, fits: args.map((a, i) => fit(a.type, b.types[i]!)) }));
  let live = fits.filter((f) => !f.fits.includes('no'));
  if (live.length === 0) return { kind: 'none' };
  if (live.length === 1) return { kind: 'chosen', candidate: live[0]!.c };

  // An argument whose type the compiler does not know, where the remaining candidates differ.
  const unsure = args.findIndex((a, i) => a.type === null && new Set(live.map((f) => f.types[i])).size > 1);
  if (unsure >= 0 || live.some((f) => f.fits.includes('maybe') && live.some((o) => o !== f && o.types.join() !== f.types.join()))) {
    return {
      kind: 'ambiguous',
      candidates: live.map((f) => f.c),
      reason: `the type of argument ${(unsure >= 0 ? unsure : Math.max(0, live.find((f) => f.fits.includes('maybe'))!.fits.indexOf('maybe'))) + 1} cannot be known before the call runs; cast it`,
    };
  }
  const all = live.filter((f) => f.fits.every((x) => x === 'exact'));
  if (all.length === 1) return { kind: 'chosen', candidate: all[0]!.c };
  const keepBest = (score: (f: (typeof live)[number]) => number) => {
    const best = Math.max(...live.map(score));
    live = live.filter((f) => score(f) === best);
  };
  keepBest((f) => f.fits.filter((x) => x === 'exact').length);
  keepBest((f) => -f.fits.filter((x) => x === 'polymorphic').length);
  keepBest((f) => f.types.filter((t, i) => args[i]!.type !== null && args[i]!.type !== 'unknown' && fit(args[i]!.type, t) === 'implicit' && preferred.has(t)).length);
  keepBest((f) => f.types.filter((t, i) => args[i]!.type === 'unknown' && categories[t] === 'S').length);
  keepBest((f) => f.types.filter((t, i) => args[i]!.type === 'unknown' && preferred.has(t)).length);
  if (live.length === 1) return { kind: 'chosen', candidate: live[0]!.c };
  return { kind: 'ambiguous', candidates: live.map((f) => f.c), reason: 'PostgreSQL cannot choose between them either' };
}

/**
 * The result type of `left op right` where both operand types are built-in (or `unknown`, an
 * untyped literal), as PostgreSQL picks the operator (parse_oper.c): an exact match, taking an
 * unknown operand to be of the other's type, then the same rules as for functions. Null where
 * no pg_catalog operator is certain, or its result is polymorphic.
 */
export function operatorResult(op: string, left: string, right: string): string | null {
  const known = (t: string) => t === 'unknown' || isBuiltinType(t);
  if (!known(left) || !known(right) || (left === 'unknown' && right === 'unknown')) return null;
  const ops = builtinOperators(op);
  const [l, r] = left === 'unknown' ? [right, right] : right === 'unknown' ? [left, left] : [left, right];
  const exact = ops.find((o) => o.left === l && o.right === r);
  let result = exact?.result;
  if (result === undefined) {
    const candidates: Candidate<never>[] = ops.map((o) => ({
      target: null,
      label: `${o.left} ${op} ${o.right}`,
      schema: 'pg_catalog',
      params: [o.left, o.right].map((type) => ({ name: null, type, hasDefault: false, variadic: false })),
    }));
    const chosen = resolveCall(
      candidates,
      ['pg_catalog'],
      [left, right].map((type) => ({ type, name: null })),
      false,
    );
    if (chosen.kind !== 'chosen') return null;
    result = ops[candidates.indexOf(chosen.candidate)]!.result;
  }
  return isPolymorphic(result) ? null : result;
}
