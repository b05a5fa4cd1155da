import { sql } from 'drizzle-orm';
import { writeAudit } from './audit';
import type { CompiledVersion } from './compile/compile';
import { qualifiedName, quoteIdent } from './compile/parser';
import type { SourceProperty } from './compile/statements';
import type { GrantPolicy } from './config';
import type { Tx } from './db/client';
import { ProcverError } from './errors';
import { applyProperties, propertiesByProcedure, routineSignature } from './properties';
import { pgReason } from './db/pgError';

type Target = {
  kind: string;
  retset: boolean;
  arguments: string;
  result: string | null;
  rettype: string;
  volatility: string;
  parallel: string;
  /** p_modes: i, o, b (inout), v (variadic), t (table) */
  modes: string[] | null;
  nargs: number;
  secdef: boolean;
};

const volatilityWords: Record<string, string> = { i: 'IMMUTABLE', s: 'STABLE', v: 'VOLATILE' };
const parallelWords: Record<string, string> = { s: 'PARALLEL SAFE', r: 'PARALLEL RESTRICTED', u: 'PARALLEL UNSAFE' };

/**
 * The forwarder: the logical name, the version's arguments (names and defaults included) and
 * result, a LANGUAGE sql body calling the version. Its calls are counted on the version too:
 * PostgreSQL counts nested calls, and an inlined forwarder is the version's call itself.
 */
function forwarderSql(v: CompiledVersion, t: Target): string {
  const logical = qualifiedName(v.schema, v.name);
  const target = qualifiedName(v.schema, v.physicalName);
  const where = `${v.schema}.${v.name}(${v.args}) at ${v.where}`;
  if (['trigger', 'event_trigger'].includes(t.rettype)) {
    throw new ProcverError('invalid_input', `${where}: a ${t.rettype} function cannot be an entry point (triggers are bindings: they move with push)`);
  }
  const modes = t.modes ?? Array<string>(t.nargs).fill('i');
  const passed: string[] = [];
  for (const m of modes) {
    if (m === 'i' || m === 'b') passed.push(`$${passed.length + 1}`);
    else if (m === 'v') passed.push(`VARIADIC $${passed.length + 1}`);
  }
  const call = `${target}(${passed.join(', ')})`;
  if (t.kind === 'p') {
    if (modes.some((m) => m === 'o' || m === 'b')) {
      throw new ProcverError('invalid_input', `${where}: a procedure with OUT or INOUT arguments cannot be an entry point`);
    }
    return `CREATE OR REPLACE PROCEDURE ${logical}(${t.arguments}) LANGUAGE sql AS $procver$ CALL ${call} $procver$`;
  }
  const rows = t.retset || modes.some((m) => m === 'o' || m === 'b' || m === 't');
  return (
    `CREATE OR REPLACE FUNCTION ${logical}(${t.arguments}) RETURNS ${t.result} LANGUAGE sql ` +
    `${volatilityWords[t.volatility]} ${parallelWords[t.parallel]} AS $procver$ SELECT ${rows ? `* FROM ${call}` : call} $procver$`
  );
}

export interface EntryPointsPushed {
  /** "app.audit(integer) -> app.audit__3fa9c1e2b4" */
  moved: string[];
}

/**
 * Keeps each opted-in procedure's logical name as a forwarder to the version compiled from these
 * sources, created or re-pointed in the push transaction (CREATE OR REPLACE: the same OID, so
 * views and defaults that call it keep working). Its grants and comment follow the properties.
 */
export async function pushEntryPoints(
  tx: Tx,
  versions: CompiledVersion[],
  entryPoints: string[],
  properties: SourceProperty[],
  policy: GrantPolicy,
  versionIds: Map<string, number>,
  actor: string,
): Promise<EntryPointsPushed> {
  const out: EntryPointsPushed = { moved: [] };
  const byKey = new Map(versions.map((v) => [`${v.schema}.${v.name}(${v.args})`, v]));
  const propertiesOf = propertiesByProcedure(properties);
  for (const key of entryPoints) {
    const v = byKey.get(key)!;
    const versionId = versionIds.get(`${v.schema}.${v.physicalName}`)!;
    const current = (
      await tx.execute<{ procedure_id: number; version_id: number | null; physical_name: string | null }>(sql`
        SELECT p.id AS procedure_id, e.version_id, cur.physical_name FROM procver.procedures p
        LEFT JOIN procver.entry_points e ON e.procedure_id = p.id LEFT JOIN procver.versions cur ON cur.id = e.version_id
        WHERE p.schema = ${v.schema} AND p.name = ${v.name} AND p.args = ${v.args}`)
    ).rows[0]!;
    if (current.version_id !== null && Number(current.version_id) === versionId) continue;
    const target = (
      await tx.execute<Target>(sql`
        SELECT f.prokind::text AS kind, f.proretset AS retset, pg_get_function_arguments(f.oid) AS arguments,
               pg_get_function_result(f.oid) AS result, format_type(f.prorettype, NULL) AS rettype, f.provolatile::text AS volatility,
               f.proparallel::text AS parallel, f.proargmodes::text[] AS modes, f.pronargs::int AS nargs, f.prosecdef AS secdef
        FROM pg_proc f WHERE f.oid = to_regprocedure(${routineSignature(v)})`)
    ).rows[0];
    if (!target) throw new ProcverError('conflict', `${routineSignature(v)} is not in the database; cannot point its entry point at it`);
    const statement = forwarderSql(v, target);
    const logical = `${qualifiedName(v.schema, v.name)}(${v.args})`;
    const existed = (await tx.execute(sql`SELECT 1 FROM pg_proc WHERE oid = to_regprocedure(${logical})`)).rows.length > 0;
    await tx.execute(sql`SAVEPOINT procver_entry_point`);
    try {
      await tx.execute(sql.raw(statement));
    } catch (e) {
      await tx.execute(sql`ROLLBACK TO SAVEPOINT procver_entry_point`);
      throw new ProcverError('conflict', `PostgreSQL refused the entry point ${key} (${v.where}): ${pgReason(e)}`);
    }
    await tx.execute(sql`RELEASE SAVEPOINT procver_entry_point`);
    if (!existed) {
      // A new forwarder starts like a new version: the grant policy first.
      if (!policy.publicExecute) await tx.execute(sql.raw(`REVOKE EXECUTE ON ROUTINE ${logical} FROM PUBLIC`));
      for (const role of policy.roles) await tx.execute(sql.raw(`GRANT EXECUTE ON ROUTINE ${logical} TO ${quoteIdent(role)}`));
    }
    // The first time procver keeps it (a function it replaces keeps its grants): the procedure's properties.
    if (current.version_id === null) await applyProperties(tx, logical, propertiesOf.get(key) ?? []);
    await tx.execute(sql`
      INSERT INTO procver.entry_points (procedure_id, version_id, source) VALUES (${current.procedure_id}, ${versionId}, ${statement})
      ON CONFLICT (procedure_id) DO UPDATE SET version_id = excluded.version_id, source = excluded.source, moved_at = now()`);
    await writeAudit(tx, {
      actor,
      action: current.version_id === null ? 'entry_point.create' : 'entry_point.move',
      targetType: 'procedure',
      target: key,
      before: current.physical_name ? { version: `${v.schema}.${current.physical_name}` } : existed ? { replaced: 'a function procver did not create' } : null,
      after: { version: `${v.schema}.${v.physicalName}`, source: statement },
    });
    out.moved.push(`${key} -> ${v.schema}.${v.physicalName}`);
  }
  return out;
}
