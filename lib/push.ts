import { eq, inArray, sql } from 'drizzle-orm';
import { writeAudit } from './audit';
import { forgetReplicaBarriers, NOT_QUARANTINED } from './cleanup/barrier';
import type { CompiledVersion, CompileResult } from './compile/compile';
import { HASH_SCHEME } from './compile/normalize';
import { qualifiedName, quoteIdent } from './identifiers';
import type { GrantPolicy } from './config';
import type { Db, Tx } from './db/client';
import { procedures, versions } from './db/schema';
import { findDrift, recordCode, type DriftInfo } from './drift';
import { ProcverError } from './errors';
import { lockRegistry } from './locks';
import { pushSourceStatements, type StatementsPushed } from './sourceStatements';
import { pgReason } from './db/pgError';

export interface PushOptions {
  actor: string;
  grants: GrantPolicy;
  /** shown in the audit entry: where the definitions came from */
  sourceLabel: string;
  onProgress?: (done: number, total: number) => void;
}

export interface PushResult {
  created: string[];
  /** dropped or missing versions that this push created again */
  recreated: string[];
  unchanged: number;
  /** versions in this push that an operator has retired: left retired */
  retired: string[];
  /**
   * versions in this push whose code in the database is not what procver created (see
   * lib/drift.ts): reported, not refused, and never overwritten
   */
  drifted: DriftInfo[];
  /**
   * procedures whose only registered versions were hashed under an older hash scheme: their new
   * version may be the same code under a new physical name (see HASH_SCHEME)
   */
  rehashed: string[];
  /** properties, entry points and bindings brought in line with the sources */
  statements?: StatementsPushed;
}

interface ExistingFunction {
  schema: string;
  name: string;
  oid: number;
}

/**
 * Creates every compiled version that is not in the database yet and records it in the
 * registry, all in one transaction that concurrent pushes and cleanups wait for.
 */
export async function pushVersions(db: Db, compiled: CompileResult, opts: PushOptions): Promise<PushResult> {
  return db.transaction(async (tx) => {
    await lockRegistry(tx);
    const result: PushResult = { created: [], recreated: [], unchanged: 0, retired: [], drifted: [], rehashed: [] };
    const all = compiled.versions;
    const names = all.map((v) => v.physicalName);

    const registered = await tx
      .select({ version: versions, procedure: procedures })
      .from(versions)
      .innerJoin(procedures, eq(procedures.id, versions.procedureId))
      .where(inArray(versions.physicalName, names.length > 0 ? names : ['']));
    const registeredByName = new Map(registered.map((r) => [`${r.version.schema}.${r.version.physicalName}`, r]));
    const existing = await existingFunctions(tx, all);

    // Refuse before creating anything: a hash is never rebound to different code.
    const conflicts: string[] = [];
    for (const v of all) {
      const key = `${v.schema}.${v.physicalName}`;
      const reg = registeredByName.get(key);
      if (reg && reg.version.hash !== v.hash) {
        conflicts.push(`${key} is registered with hash ${reg.version.hash}, not ${v.hash} (${v.where})`);
      } else if (reg && (reg.procedure.name !== v.name || reg.procedure.args !== v.args)) {
        conflicts.push(`${key} is registered for ${reg.procedure.schema}.${reg.procedure.name}(${reg.procedure.args}), not ${v.name}(${v.args})`);
      } else if (!reg && existing.has(key)) {
        conflicts.push(`${key} already exists in the database but procver did not create it; drop or rename it first`);
      } else if (reg?.version.status === 'dropped' && existing.has(key)) {
        conflicts.push(`${key} was dropped by cleanup, yet a function of that name is in the database that procver did not create; drop or rename it first`);
      }
    }
    if (conflicts.length > 0) {
      throw new ProcverError('conflict', `push refused: ${conflicts.length} physical name(s) already bound to something else; nothing was created`, conflicts);
    }

    const schemas = [...new Set(all.filter((v) => !registeredByName.has(`${v.schema}.${v.physicalName}`)).map((v) => v.schema))];
    for (const s of schemas) await tx.execute(sql.raw(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(s)}`));

    // Versions to create: new ones, and registered ones missing from the database (dropped by
    // cleanup or by hand), re-created from the registry's source: the statement procver ran.
    const toCreate: CompiledVersion[] = [];
    for (const v of all) {
      const key = `${v.schema}.${v.physicalName}`;
      const reg = registeredByName.get(key);
      // A quarantined version exists under its quarantine name: cleanup owns it until restored.
      if (reg && reg.version.status !== 'dropped' && (existing.has(key) || reg.version.quarantineName)) {
        if (reg.version.status === 'retired') result.retired.push(key);
        result.unchanged++;
      } else toCreate.push(reg ? { ...v, source: reg.version.source } : v);
    }
    opts.onProgress?.(result.unchanged, all.length);

    const oids = await createVersions(tx, toCreate, opts.grants, (n) => opts.onProgress?.(result.unchanged + n, all.length));
    const fresh = toCreate.filter((v) => !registeredByName.has(`${v.schema}.${v.physicalName}`));
    // Re-created: any quarantine they were in is over (the registry's columns are cleared below).
    await forgetReplicaBarriers(
      tx,
      toCreate.flatMap((v) => registeredByName.get(`${v.schema}.${v.physicalName}`)?.version.id ?? []),
    );
    for (const v of toCreate) {
      const key = `${v.schema}.${v.physicalName}`;
      const reg = registeredByName.get(key);
      if (!reg) continue;
      // Pushing a dropped version's source again asks for it back; a retired one stays retired.
      const status = reg.version.status === 'dropped' ? 'live' : reg.version.status;
      const oid = oids.get(key)!;
      const [updated] = await tx
        .update(versions)
        .set({
          status,
          oid,
          ...recordCode(oid),
          ...NOT_QUARANTINED,
          ...(status !== reg.version.status ? { statusChangedAt: sql`now()` } : {}),
          revision: sql`${versions.revision} + 1`,
        })
        .where(eq(versions.id, reg.version.id))
        .returning({ revision: versions.revision });
      await writeAudit(tx, {
        actor: opts.actor,
        action: 'version.recreate',
        targetType: 'version',
        target: key,
        reason: `push of ${opts.sourceLabel}: ${reg.version.status === 'dropped' ? 'dropped by cleanup' : 'missing from the database'}; re-created from the registry's source`,
        before: { status: reg.version.status, revision: reg.version.revision },
        after: { status, revision: updated!.revision, oid },
      });
      result.recreated.push(key);
    }
    result.rehashed = await rehashedProcedures(tx, fresh);
    const procedureIds = await ensureProcedures(tx, fresh);
    // One INSERT … SELECT FROM unnest per 1,000 versions: the registry rows carry the full
    // source, and row-by-row parameter lists were most of push's cost.
    for (let i = 0; i < fresh.length; i += 1000) {
      const chunk = fresh.slice(i, i + 1000);
      const col = <T>(f: (v: CompiledVersion) => T) => sql.param(chunk.map(f));
      await tx.execute(sql`
        INSERT INTO procver.versions (procedure_id, hash, schema, physical_name, language, may_be_inlined, source, normalized, callees, oid, pushed_by, code_fingerprint, code_xmin)
        SELECT u.procedure_id, u.hash, u.schema, u.physical_name, u.language, u.may_be_inlined, u.source, u.normalized,
               coalesce((SELECT array_agg(c) FROM jsonb_array_elements_text(u.callees) c), '{}'), u.oid, ${opts.actor},
               procver.code_fingerprint(u.oid::oid), (SELECT xmin::text FROM pg_proc WHERE oid = u.oid::oid)
        FROM unnest(${col((v) => procedureIds.get(`${v.schema}.${v.name}(${v.args})`)!)}::int[], ${col((v) => v.hash)}::text[],
                    ${col((v) => v.schema)}::text[], ${col((v) => v.physicalName)}::text[], ${col((v) => v.language)}::text[],
                    ${col((v) => v.mayBeInlined)}::boolean[], ${col((v) => v.source)}::text[], ${col((v) => v.normalized)}::text[],
                    ${col((v) => JSON.stringify(v.callees))}::jsonb[], ${col((v) => oids.get(`${v.schema}.${v.physicalName}`)!)}::bigint[])
          AS u(procedure_id, hash, schema, physical_name, language, may_be_inlined, source, normalized, callees, oid)`);
    }
    result.created.push(...fresh.map((v) => `${v.schema}.${v.physicalName}`));
    const created = new Set(toCreate.map((v) => `${v.schema}.${v.physicalName}`));
    const untouched = registered.filter((r) => !created.has(`${r.version.schema}.${r.version.physicalName}`));
    result.drifted = [...(await findDrift(tx, { versionIds: untouched.map((r) => r.version.id) })).values()];
    result.statements = await pushSourceStatements(tx, compiled, toCreate, opts);

    // A push that changed nothing is not a state change: no audit entry.
    if (result.created.length + result.recreated.length === 0) return result;
    await writeAudit(tx, {
      actor: opts.actor,
      action: 'push',
      targetType: 'push',
      target: opts.sourceLabel,
      after: { created: result.created, recreated: result.recreated, unchanged: result.unchanged },
    });
    return result;
  });
}

async function existingFunctions(tx: Tx, all: CompiledVersion[]): Promise<Map<string, ExistingFunction>> {
  if (all.length === 0) return new Map();
  const rows = await tx.execute<{ schema: string; name: string; oid: number }>(sql`
    SELECT n.nspname AS schema, p.proname AS name, p.oid::bigint AS oid
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    JOIN unnest(${sql.param(all.map((v) => v.schema))}::text[], ${sql.param(all.map((v) => v.physicalName))}::text[]) AS w(schema, name)
      ON w.schema = n.nspname AND w.name = p.proname`);
  return new Map(rows.rows.map((r) => [`${r.schema}.${r.name}`, { ...r, oid: Number(r.oid) }]));
}

const CHUNK = 100;

/**
 * Creates versions in chunks of statements per round trip, callees first (compile order). If a
 * chunk fails, it is rolled back to its savepoint and run one statement at a time, so the error
 * names the definition and its file position.
 */
async function createVersions(tx: Tx, list: CompiledVersion[], grants: GrantPolicy, progress: (n: number) => void): Promise<Map<string, number>> {
  for (let i = 0; i < list.length; i += CHUNK) {
    const chunk = list.slice(i, i + CHUNK);
    await tx.execute(sql`SAVEPOINT procver_chunk`);
    try {
      await tx.execute(sql.raw(chunk.map((v) => `${v.source};`).join('\n')));
    } catch {
      await tx.execute(sql`ROLLBACK TO SAVEPOINT procver_chunk`);
      for (const v of chunk) {
        try {
          await tx.execute(sql.raw(v.source));
        } catch (e) {
          throw new ProcverError('conflict', `PostgreSQL refused ${v.schema}.${v.name}(${v.args}) from ${v.where}: ${pgReason(e)}`);
        }
      }
    }
    await tx.execute(sql`RELEASE SAVEPOINT procver_chunk`);
    progress(Math.min(i + CHUNK, list.length));
  }
  if (list.length === 0) return new Map();
  // PostgreSQL truncates over-long identifiers with only a NOTICE: make sure every name is exact.
  const found = await tx.execute<{ schema: string; name: string; oid: number; signature: string; n: number }>(sql`
    SELECT w.schema, w.name, p.oid::bigint AS oid, p.oid::regprocedure::text AS signature, count(*) OVER (PARTITION BY w.schema, w.name)::int AS n
    FROM unnest(${sql.param(list.map((v) => v.schema))}::text[], ${sql.param(list.map((v) => v.physicalName))}::text[]) AS w(schema, name)
    LEFT JOIN pg_namespace ns ON ns.nspname = w.schema
    LEFT JOIN pg_proc p ON p.pronamespace = ns.oid AND p.proname = w.name`);
  const oids = new Map<string, number>();
  for (const r of found.rows) {
    if (r.oid === null || Number(r.n) !== 1) {
      throw new ProcverError('conflict', `after creating ${qualifiedName(r.schema, r.name)} it is not in pg_proc under exactly that name`);
    }
    oids.set(`${r.schema}.${r.name}`, Number(r.oid));
  }
  const bySignature = new Map(found.rows.map((r) => [`${r.schema}.${r.name}`, r.signature]));
  for (const v of list) {
    const target = `ROUTINE ${bySignature.get(`${v.schema}.${v.physicalName}`)}`;
    if (!grants.publicExecute || v.securityDefiner) await tx.execute(sql.raw(`REVOKE EXECUTE ON ${target} FROM PUBLIC`));
    for (const role of grants.roles) await tx.execute(sql.raw(`GRANT EXECUTE ON ${target} TO ${quoteIdent(role)}`));
  }
  return oids;
}

/**
 * Procedures of these new versions that have registered versions, all hashed under an older hash
 * scheme (their normalized definition does not start with this scheme): asked before the new rows go in.
 */
async function rehashedProcedures(tx: Tx, fresh: CompiledVersion[]): Promise<string[]> {
  if (fresh.length === 0) return [];
  const current = `{"hashScheme":${HASH_SCHEME},%`;
  const rows = await tx.execute<{ key: string }>(sql`
    SELECT DISTINCT p.schema || '.' || p.name || '(' || p.args || ')' AS key FROM procver.procedures p
    JOIN unnest(${sql.param(fresh.map((v) => v.schema))}::text[], ${sql.param(fresh.map((v) => v.name))}::text[], ${sql.param(fresh.map((v) => v.args))}::text[]) AS w(schema, name, args)
      ON w.schema = p.schema AND w.name = p.name AND w.args = p.args
    WHERE EXISTS (SELECT 1 FROM procver.versions v WHERE v.procedure_id = p.id)
      AND NOT EXISTS (SELECT 1 FROM procver.versions v WHERE v.procedure_id = p.id AND v.normalized LIKE ${current})
    ORDER BY 1`);
  return rows.rows.map((r) => r.key);
}

/** The registry ids of these versions' procedures, inserting the missing ones. */
async function ensureProcedures(tx: Tx, list: CompiledVersion[]): Promise<Map<string, number>> {
  const ids = new Map<string, number>();
  if (list.length === 0) return ids;
  const unique = [...new Map(list.map((v) => [`${v.schema}.${v.name}(${v.args})`, v])).values()];
  await tx.execute(sql`
    INSERT INTO procver.procedures (schema, name, args, kind)
    SELECT * FROM unnest(${sql.param(unique.map((v) => v.schema))}::text[], ${sql.param(unique.map((v) => v.name))}::text[],
                         ${sql.param(unique.map((v) => v.args))}::text[], ${sql.param(unique.map((v) => v.kind))}::procver.procedure_kind[])
    ON CONFLICT DO NOTHING`);
  const rows = await tx.execute<{ id: number; key: string }>(sql`
    SELECT p.id, p.schema || '.' || p.name || '(' || p.args || ')' AS key FROM procver.procedures p
    JOIN unnest(${sql.param(unique.map((v) => v.schema))}::text[], ${sql.param(unique.map((v) => v.name))}::text[], ${sql.param(unique.map((v) => v.args))}::text[]) AS w(schema, name, args)
      ON w.schema = p.schema AND w.name = p.name AND w.args = p.args`);
  for (const r of rows.rows) ids.set(r.key, Number(r.id));
  return ids;
}
