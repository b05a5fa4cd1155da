import catalog from './pgCatalogFunctions.json' with { type: 'json' };
import operatorCatalog from './pgCatalogOperators.json' with { type: 'json' };

/**
 * pg_catalog's functions in PostgreSQL 15 (name → [argument types, variadic, defaults, result]),
 * generated from a real server (see scripts/pg-catalog-functions.sql). PostgreSQL searches
 * pg_catalog before the search path, so a call may belong to a built-in of the same name.
 */
export interface BuiltinSignature {
  args: string[];
  variadic: boolean;
  defaults: number;
  returns: string;
}

const functions = catalog as unknown as Record<string, [string[], number, number, string][]>;
const cache = new Map<string, BuiltinSignature[]>();

export function builtinFunctions(name: string): BuiltinSignature[] {
  let sigs = cache.get(name);
  if (!sigs) {
    const raw = Object.hasOwn(functions, name) ? functions[name]! : [];
    sigs = raw.map(([args, variadic, defaults, returns]) => ({ args, variadic: variadic === 1, defaults, returns }));
    cache.set(name, sigs);
  }
  return sigs;
}

let types: Set<string> | undefined;

/** Every type a built-in function takes or returns: base types whose casts are all known. */
export function isBuiltinType(type: string): boolean {
  if (!types) {
    types = new Set();
    for (const sigs of Object.values(functions)) {
      for (const [args, , , returns] of sigs) {
        for (const a of args) types.add(a);
        types.add(returns.replace(/^setof /, ''));
      }
    }
  }
  return types.has(type);
}

/** A binary operator of pg_catalog: its operand and result types. */
export interface BuiltinOperator {
  left: string;
  right: string;
  result: string;
}

const operators = operatorCatalog as unknown as Record<string, [string, string, string][]>;

/**
 * pg_catalog's binary operators of that name in PostgreSQL 15, generated from a real server (see
 * scripts/pg-catalog-operators.sql).
 */
export function builtinOperators(name: string): BuiltinOperator[] {
  return (Object.hasOwn(operators, name) ? operators[name]! : []).map(([left, right, result]) => ({ left, right, result }));
}
