import { and, eq, inArray, sql } from 'drizzle-orm';
import { writeAudit } from './audit';
import type { CompiledVersion, CompileResult } from './compile/compile';
import { qualifiedName, quoteIdent } from './compile/parser';
import type { GrantPolicy } from './config';
import type { Db, Tx } from './db/client';
import { procedures, versions } from './db/schema';
import { ProcverError } from './errors';
import { lockRegistry } from './locks';

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
    const result: PushResult = { created: [], recreated: [], unchanged: 0, retired: [] };
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
      }
    }
    if (conflicts.length > 0) {
      throw new ProcverError('conflict', `push refused: ${conflicts.length} physical name(s) already bound to something else; nothing was created`, conflicts);
    }

    const schemas = [...new Set(all.filter((v) => !registeredByName.has(`${v.schema}.${v.physicalName}`)).map((v) => v.schema))];
    for (const s of schemas) await tx.execute(sql.raw(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(s)}`));

    let done = 0;
    for (const v of all) {
      const key = `${v.schema}.${v.physicalName}`;
      const reg = registeredByName.get(key);
      const present = existing.has(key);
      // A quarantined version exists under its quarantine name: cleanup owns it until restored.
      if (reg && (present || reg.version.quarantineName)) {
        if (reg.version.status === 'retired') result.retired.push(key);
        result.unchanged++;
      } else {
        const oid = await createVersion(tx, v, opts.grants);
        if (reg) {
          await tx
            .update(versions)
            .set({ status: 'live', oid, statusChangedAt: sql`now()`, revision: sql`${versions.revision} + 1` })
            .where(eq(versions.id, reg.version.id));
          result.recreated.push(key);
        } else {
          const procedureId = await ensureProcedure(tx, v);
          await tx.insert(versions).values({
            procedureId,
            hash: v.hash,
            schema: v.schema,
            physicalName: v.physicalName,
            language: v.language,
            mayBeInlined: v.mayBeInlined,
            source: v.source,
            normalized: v.normalized,
            callees: v.callees,
            oid,
            pushedBy: opts.actor,
          });
          result.created.push(key);
        }
      }
      done++;
      opts.onProgress?.(done, all.length);
    }

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

async function createVersion(tx: Tx, v: CompiledVersion, grants: GrantPolicy): Promise<number> {
  await tx.execute(sql.raw(v.source));
  // PostgreSQL truncates over-long identifiers with only a NOTICE: make sure the name is exact.
  const found = await tx.execute<{ oid: number; signature: string }>(sql`
    SELECT p.oid::bigint AS oid, p.oid::regprocedure::text AS signature
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname = ${v.schema} AND p.proname = ${v.physicalName}`);
  const row = found.rows[0];
  if (!row || found.rows.length !== 1) {
    throw new ProcverError('conflict', `after creating ${qualifiedName(v.schema, v.physicalName)} it is not in pg_proc under exactly that name`);
  }
  const target = `ROUTINE ${row.signature}`;
  if (!grants.publicExecute || v.securityDefiner) await tx.execute(sql.raw(`REVOKE EXECUTE ON ${target} FROM PUBLIC`));
  for (const role of grants.roles) await tx.execute(sql.raw(`GRANT EXECUTE ON ${target} TO ${quoteIdent(role)}`));
  return Number(row.oid);
}

async function ensureProcedure(tx: Tx, v: CompiledVersion): Promise<number> {
  const inserted = await tx
    .insert(procedures)
    .values({ schema: v.schema, name: v.name, args: v.args, kind: v.kind })
    .onConflictDoNothing()
    .returning({ id: procedures.id });
  if (inserted[0]) return inserted[0].id;
  const found = await tx
    .select({ id: procedures.id })
    .from(procedures)
    .where(and(eq(procedures.schema, v.schema), eq(procedures.name, v.name), eq(procedures.args, v.args)));
  return found[0]!.id;
}
