import pg from 'pg';
import { ProcverError } from '../../errors';
import type { CompileResult } from '../compile';
import { compositeColumns, isBuiltin, type Catalog, type CatalogType } from './typeMap';

interface TypeRow {
  name: string;
  typtype: string;
  base: string | null;
  labels: string[] | null;
  columns: { name: string; type: string }[] | null;
}

/** Every type a signature names that only the catalog can explain (table row types, domains, enums…). */
function catalogTypeNames(result: CompileResult): Set<string> {
  const names = new Set<string>();
  const add = (t: string | null) => {
    if (t === null) return;
    const element = t.endsWith('[]') ? t.slice(0, -2) : t;
    if (!isBuiltin(element)) names.add(element);
  };
  for (const v of result.versions) {
    for (const p of v.signature.params) add(p.type);
    add(v.signature.returns?.type ?? null);
  }
  return names;
}

function toCatalogType(r: TypeRow): CatalogType | null {
  switch (r.typtype) {
    case 'e':
      return { kind: 'enum', labels: r.labels ?? [] };
    case 'd':
      return r.base === null ? null : { kind: 'domain', base: r.base };
    case 'c':
      return { kind: 'composite', columns: r.columns ?? [] };
    case 'b':
    case 'r':
    case 'm':
      return { kind: 'text' };
    default:
      return null; // pseudo-types stay unknown
  }
}

/**
 * Reads the types the signatures use from a database (`procver compile --database-url`), following
 * domains to their base types and row types to their columns. Types the database does not have stay
 * out of the catalog (and so `unknown` in procs.ts); they are returned in `missing`.
 */
export async function readCatalog(url: string, result: CompileResult): Promise<{ catalog: Catalog; missing: string[] }> {
  let client: pg.Client;
  try {
    client = new pg.Client({ connectionString: url, application_name: 'procver compile', connectionTimeoutMillis: 10_000 });
    await client.connect();
  } catch (e) {
    throw new ProcverError('config', `--database-url: cannot connect to read the types the procedures use: ${(e as Error).message}`);
  }
  const catalog = new Map<string, CatalogType>();
  const missing: string[] = [];
  try {
    let wanted = [...catalogTypeNames(result)].sort();
    const asked = new Set<string>();
    // Domains and row types name further types; follow them until nothing new turns up.
    while (wanted.length > 0) {
      for (const w of wanted) asked.add(w);
      const r = await client.query<TypeRow>(
        `SELECT n.name, t.typtype::text AS typtype,
           CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, NULL) END AS base,
           (SELECT array_agg(e.enumlabel::text ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid) AS labels,
           (SELECT json_agg(json_build_object('name', a.attname, 'type', format_type(a.atttypid, NULL)) ORDER BY a.attnum)
              FROM pg_attribute a WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped) AS columns
         FROM unnest($1::text[]) AS n(name)
         JOIN pg_type t ON t.oid = to_regtype(n.name)`,
        [wanted],
      );
      const found = new Set<string>();
      for (const row of r.rows) {
        const t = toCatalogType(row);
        found.add(row.name);
        if (t) catalog.set(row.name, t);
      }
      missing.push(...wanted.filter((w) => !found.has(w)));
      const next = new Set<string>();
      const follow = (t: string) => {
        const element = t.endsWith('[]') ? t.slice(0, -2) : t;
        if (!isBuiltin(element) && !asked.has(element)) next.add(element);
      };
      for (const name of wanted) {
        const t = catalog.get(name);
        if (t?.kind === 'domain') follow(t.base);
        for (const c of compositeColumns(name, catalog) ?? []) follow(c.type);
      }
      wanted = [...next].sort();
    }
  } finally {
    await client.end();
  }
  return { catalog, missing: missing.sort() };
}
