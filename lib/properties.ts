import { sql } from 'drizzle-orm';
import { writeAudit } from './audit';
import type { CompiledVersion } from './compile/compile';
import { qualifiedName, quoteIdent } from './compile/parser';
import { propertySql, type PropertyChange, type SourceProperty } from './compile/statements';
import type { GrantPolicy } from './config';
import type { Db, Tx } from './db/client';
import { ProcverError } from './errors';
import { pgReason } from './db/pgError';

/** `schema.physical_name(args)` as push creates it: what GRANT, COMMENT and ALTER take. */
export function routineSignature(v: Pick<CompiledVersion, 'schema' | 'physicalName' | 'args'>): string {
  return `${qualifiedName(v.schema, v.physicalName)}(${v.args})`;
}

/** The properties the sources give each procedure, in source order. */
export function propertiesByProcedure(properties: SourceProperty[]): Map<string, SourceProperty[]> {
  const out = new Map<string, SourceProperty[]>();
  for (const p of properties) out.set(p.procedure, [...(out.get(p.procedure) ?? []), p]);
  return out;
}

/** Runs the properties on one routine; an error names the statement in the sources. */
export async function applyProperties(tx: Tx, routine: string, properties: SourceProperty[]): Promise<void> {
  for (const p of properties) {
    const statement = propertySql(p.change, routine);
    await tx.execute(sql`SAVEPOINT procver_property`);
    try {
      await tx.execute(sql.raw(statement));
    } catch (e) {
      await tx.execute(sql`ROLLBACK TO SAVEPOINT procver_property`);
      throw new ProcverError('conflict', `PostgreSQL refused ${statement} (from ${p.where}): ${pgReason(e)}`);
    }
    await tx.execute(sql`RELEASE SAVEPOINT procver_property`);
  }
}

/** jsonb gives keys back in its own order: compare with keys sorted. */
function sameJson(a: unknown, b: unknown): boolean {
  const canonical = (x: unknown): unknown =>
    Array.isArray(x)
      ? x.map(canonical)
      : x && typeof x === 'object'
        ? Object.fromEntries(
            Object.entries(x)
              .sort(([k], [l]) => k.localeCompare(l))
              .map(([k, v]) => [k, canonical(v)]),
          )
        : x;
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

type LiveRoutine = {
  sig: string;
  secdef: boolean;
  grantees: string[] | null;
};

/**
 * Puts an existing routine's grants and comment back to what a new version gets (the grant
 * policy, no comment) before the properties run again, so that a grant removed from the sources
 * is removed from the database too. The owner is left as it is.
 */
async function resetProperties(tx: Tx, r: LiveRoutine, policy: GrantPolicy): Promise<void> {
  const revokeFrom = ['PUBLIC', ...(r.grantees ?? [])];
  await tx.execute(sql.raw(`REVOKE ALL ON ROUTINE ${r.sig} FROM ${revokeFrom.join(', ')} CASCADE`));
  if (policy.publicExecute && !r.secdef) await tx.execute(sql.raw(`GRANT EXECUTE ON ROUTINE ${r.sig} TO PUBLIC`));
  for (const role of policy.roles) await tx.execute(sql.raw(`GRANT EXECUTE ON ROUTINE ${r.sig} TO ${quoteIdent(role)}`));
  await tx.execute(sql.raw(`COMMENT ON ROUTINE ${r.sig} IS NULL`));
}

export interface PropertiesPushed {
  /** procedures whose properties changed: their existing versions were brought in line */
  changed: string[];
}

/**
 * New versions get their procedure's properties; when a procedure's properties differ from what
 * the last push applied, every version of it still in the database (and its entry point) is
 * brought in line, with one audit entry per procedure. Runs in the push transaction.
 */
export async function pushProperties(
  tx: Tx,
  versions: CompiledVersion[],
  created: CompiledVersion[],
  properties: SourceProperty[],
  policy: GrantPolicy,
  actor: string,
): Promise<PropertiesPushed> {
  const byProcedure = propertiesByProcedure(properties);
  const keyOf = (v: CompiledVersion) => `${v.schema}.${v.name}(${v.args})`;
  for (const v of created) await applyProperties(tx, routineSignature(v), byProcedure.get(keyOf(v)) ?? []);

  const procedures = [...new Map(versions.map((v) => [keyOf(v), v])).values()];
  if (procedures.length === 0) return { changed: [] };
  const stored = await tx.execute<{ id: number; key: string; properties: PropertyChange[] | null }>(sql`
    SELECT p.id, p.schema || '.' || p.name || '(' || p.args || ')' AS key, pp.properties
    FROM procver.procedures p
    JOIN unnest(${sql.param(procedures.map((v) => v.schema))}::text[], ${sql.param(procedures.map((v) => v.name))}::text[],
                ${sql.param(procedures.map((v) => v.args))}::text[]) AS w(schema, name, args)
      ON w.schema = p.schema AND w.name = p.name AND w.args = p.args
    LEFT JOIN procver.procedure_properties pp ON pp.procedure_id = p.id`);
  const createdNames = new Set(created.map((v) => `${v.schema}.${v.physicalName}`));
  const changed: string[] = [];
  for (const row of stored.rows) {
    const wanted = byProcedure.get(row.key) ?? [];
    const desired = wanted.map((p) => p.change);
    const before = row.properties ?? [];
    if (sameJson(before, desired)) continue;
    const existing = await existingRoutines(tx, Number(row.id), createdNames);
    for (const r of existing) {
      await resetProperties(tx, r, policy);
      await applyProperties(tx, r.sig, wanted);
    }
    await tx.execute(sql`
      INSERT INTO procver.procedure_properties (procedure_id, properties) VALUES (${row.id}, ${JSON.stringify(desired)}::jsonb)
      ON CONFLICT (procedure_id) DO UPDATE SET properties = excluded.properties, updated_at = now()`);
    await writeAudit(tx, {
      actor,
      action: 'procedure.properties',
      targetType: 'procedure',
      target: row.key,
      before: { properties: before.map((c) => propertySql(c, row.key)) },
      after: { properties: desired.map((c) => propertySql(c, row.key)), appliedTo: existing.map((r) => r.sig) },
    });
    changed.push(row.key);
  }
  return { changed };
}

/** Versions of a procedure in the database under their current name (quarantined ones too), and its entry point. */
async function existingRoutines(tx: Tx, procedureId: number, skip: Set<string>): Promise<LiveRoutine[]> {
  const r = await tx.execute<LiveRoutine & { key: string }>(sql`
    SELECT v.schema || '.' || v.physical_name AS key, f.oid::regprocedure::text AS sig, f.prosecdef AS secdef,
           (SELECT array_agg(DISTINCT quote_ident(pg_get_userbyid(a.grantee))) FROM aclexplode(f.proacl) a
             WHERE a.grantee <> 0 AND a.grantee <> f.proowner) AS grantees
    FROM procver.versions v
    JOIN pg_namespace n ON n.nspname = v.schema
    JOIN pg_proc f ON f.pronamespace = n.oid AND f.proname = coalesce(v.quarantine_name, v.physical_name)
    WHERE v.procedure_id = ${procedureId} AND v.status <> 'dropped'
    UNION ALL
    SELECT '', f.oid::regprocedure::text, f.prosecdef,
           (SELECT array_agg(DISTINCT quote_ident(pg_get_userbyid(a.grantee))) FROM aclexplode(f.proacl) a
             WHERE a.grantee <> 0 AND a.grantee <> f.proowner)
    FROM procver.entry_points e JOIN pg_proc f ON f.oid = to_regprocedure(
      (SELECT format('%I.%I(%s)', p.schema, p.name, p.args) FROM procver.procedures p WHERE p.id = e.procedure_id))
    WHERE e.procedure_id = ${procedureId}
    ORDER BY 1`);
  return r.rows.filter((x) => !skip.has(x.key));
}

export interface VersionProperties {
  owner: string | null;
  comment: string | null;
  /** "role: EXECUTE" lines as PostgreSQL has them now */
  grants: string[];
  /** what the sources say, as SQL on the logical name */
  fromSources: string[];
}

/** What the version page shows: the version's owner, comment and grants now, and the procedure's properties in the sources. */
export async function versionProperties(db: Db, versionId: number): Promise<VersionProperties> {
  const r = await db.execute<{ owner: string | null; comment: string | null; grants: string[] | null; properties: PropertyChange[] | null; key: string }>(sql`
    SELECT pg_get_userbyid(f.proowner) AS owner, obj_description(f.oid, 'pg_proc') AS comment,
           (SELECT array_agg(CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END || ': ' || a.privilege_type
                             || CASE WHEN a.is_grantable THEN ' (with grant option)' ELSE '' END ORDER BY 1)
            FROM aclexplode(coalesce(f.proacl, acldefault('f', f.proowner))) a) AS grants,
           pp.properties, p.schema || '.' || p.name || '(' || p.args || ')' AS key
    FROM procver.versions v JOIN procver.procedures p ON p.id = v.procedure_id
    LEFT JOIN procver.procedure_properties pp ON pp.procedure_id = p.id
    LEFT JOIN pg_namespace n ON n.nspname = v.schema
    LEFT JOIN pg_proc f ON f.pronamespace = n.oid AND f.proname = coalesce(v.quarantine_name, v.physical_name)
    WHERE v.id = ${versionId}`);
  const row = r.rows[0];
  return {
    owner: row?.owner ?? null,
    comment: row?.comment ?? null,
    grants: row?.grants ?? [],
    fromSources: (row?.properties ?? []).map((c) => propertySql(c, row!.key)),
  };
}
