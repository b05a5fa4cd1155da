import { sql } from 'drizzle-orm';
import { writeAudit } from './audit';
import { forgottenWording, repairWording, type RepairFindings } from './bindingWords';
import { BINDING_CATALOGS, firingStateSql, objectOidSql, quoteLiteral, type BindingCatalog, type CompiledBinding, type FiringState } from './compile/statements';
import type { Db, Tx } from './db/client';
import { ProcverError } from './errors';
import { pgCode, pgReason } from './db/pgError';

export interface BindingsPushed {
  created: string[];
  /** bindings pointed at other versions: "trigger touch on app.items" */
  moved: string[];
  /** bindings whose statement changed while they point at the same versions */
  updated: string[];
  /** unchanged in the sources but missing, pointing elsewhere or firing differently (triggers) in the database: created again */
  repaired: { identity: string; found: RepairFindings }[];
  /**
   * bindings gone from the sources and from the database, or whose object in the database is now a
   * binding of the sources under another identity (`takenBy`): removed from the registry (binding.forget)
   */
  forgotten: { identity: string; takenBy: string | null }[];
  /**
   * bindings gone from the sources that stay registered, keeping their versions referenced: still in
   * the database (`inDatabase` true), or recorded before procver stored where to look (null)
   */
  notInSources: { identity: string; versions: string[]; inDatabase: boolean | null }[];
}

/**
 * Creates each binding, or points it at the versions compiled from the same sources (CREATE OR
 * REPLACE where PostgreSQL has it, drop and create otherwise), in the push transaction, and
 * records which versions it points to and where it is. A binding whose statements did not change
 * is left alone. Registered bindings that left the sources are forgotten once they are gone from
 * the database too (see forgetGoneBindings).
 */
export async function pushBindings(tx: Tx, list: CompiledBinding[], versionIds: Map<string, number>, actor: string): Promise<BindingsPushed> {
  const out: BindingsPushed = { created: [], moved: [], updated: [], repaired: [], forgotten: [], notInSources: [] };
  await applyBindings(tx, list, versionIds, actor, out);
  await recordObjects(tx, list);
  await forgetGoneBindings(tx, list, actor, out);
  return out;
}

async function applyBindings(tx: Tx, list: CompiledBinding[], versionIds: Map<string, number>, actor: string, out: BindingsPushed): Promise<void> {
  if (list.length === 0) return;
  const registered = await tx.execute<{ id: number; identity: string; statements: string[]; versions: string[] | null }>(sql`
    SELECT b.id, b.identity, b.statements,
           (SELECT array_agg(v.schema || '.' || v.physical_name ORDER BY 1) FROM procver.binding_versions bv
              JOIN procver.versions v ON v.id = bv.version_id WHERE bv.binding_id = b.id) AS versions
    FROM procver.bindings b WHERE b.identity = ANY(${sql.param(list.map((b) => b.identity))}::text[])`);
  const byIdentity = new Map(registered.rows.map((r) => [r.identity, r]));
  const unchanged = list.filter((b) => JSON.stringify(byIdentity.get(b.identity)?.statements) === JSON.stringify(b.statements));
  const damage = await inspect(tx, unchanged);
  for (const b of list) {
    const before = byIdentity.get(b.identity);
    const repair = unchanged.includes(b);
    const found = damage.get(b.identity);
    if (repair && !found) continue;
    await tx.execute(sql`SAVEPOINT procver_binding`);
    let ownStates: { table: string; state: FiringState }[] = [];
    try {
      if (b.kind === 'trigger') ownStates = await partitionsFiringOnTheirOwn(tx, b);
      for (const s of b.statements) await tx.execute(sql.raw(s));
      for (const p of ownStates) await tx.execute(sql.raw(firingStateSql({ name: b.object.name[1]!, on: p.table }, p.state)));
    } catch (e) {
      await tx.execute(sql`ROLLBACK TO SAVEPOINT procver_binding`);
      throw new ProcverError('conflict', `PostgreSQL refused ${b.identity} from ${b.where}: ${pgReason(e)}`);
    }
    await tx.execute(sql`RELEASE SAVEPOINT procver_binding`);
    const moved = before !== undefined && JSON.stringify([...(before.versions ?? [])].sort()) !== JSON.stringify([...b.versions].sort());
    let id: number;
    if (before) {
      await tx.execute(sql`
        UPDATE procver.bindings SET statements = ${sql.param(b.statements)}::text[], pushed_by = ${actor},
               moved_at = CASE WHEN ${moved} THEN now() ELSE moved_at END
        WHERE id = ${before.id}`);
      id = Number(before.id);
    } else {
      const inserted = await tx.execute<{ id: number }>(sql`
        INSERT INTO procver.bindings (kind, identity, statements, pushed_by)
        VALUES (${b.kind}, ${b.identity}, ${sql.param(b.statements)}::text[], ${actor}) RETURNING id`);
      id = Number(inserted.rows[0]!.id);
    }
    await tx.execute(sql`DELETE FROM procver.binding_versions WHERE binding_id = ${id}`);
    await tx.execute(sql`
      INSERT INTO procver.binding_versions (binding_id, version_id)
      SELECT ${id}, unnest(${sql.param(b.versions.map((v) => versionIds.get(v)!))}::bigint[])`);
    await writeAudit(tx, {
      actor,
      action: !before ? 'binding.create' : moved ? 'binding.move' : repair ? 'binding.repair' : 'binding.update',
      targetType: 'binding',
      target: b.identity,
      reason: repair && found ? repairWording(found) : null,
      before: before ? { versions: before.versions ?? [], statements: before.statements } : null,
      after: {
        versions: b.versions,
        statements: b.statements,
        from: b.where,
        ...(repair && found ? { found } : {}),
        ...(ownStates.length > 0 ? { partitionsKept: ownStates } : {}),
      },
    });
    if (repair && found) out.repaired.push({ identity: b.identity, found });
    else (!before ? out.created : moved ? out.moved : out.updated).push(b.identity);
  }
}

/**
 * The partitions whose clone of this trigger fires differently from its parent's clone: set on their
 * own (pg_dump writes it as an ALTER on the partition; the migration tool's, not the sources'), top
 * partitions first. Re-creating the trigger on the partitioned table re-creates every clone with
 * the parent's state, so push sets these back afterwards, each with its sub-partitions (which
 * followed it), deeper own states after.
 */
async function partitionsFiringOnTheirOwn(tx: Tx, b: CompiledBinding): Promise<{ table: string; state: FiringState }[]> {
  const r = await tx.execute<{ table: string; state: FiringState }>(
    sql.raw(`
    WITH RECURSIVE clones(oid, relid, state, parent_state, depth) AS (
      SELECT t.oid, t.tgrelid, t.tgenabled, t.tgenabled, 0 FROM pg_trigger t WHERE t.oid = (${objectOidSql('pg_trigger', b.object.name.map(quoteLiteral))})
      UNION ALL
      SELECT c.oid, c.tgrelid, c.tgenabled, p.state, p.depth + 1 FROM pg_trigger c JOIN clones p ON c.tgparentid = p.oid)
    SELECT format('%I.%I', n.nspname, r.relname) AS "table", c.state::text AS state
    FROM clones c JOIN pg_class r ON r.oid = c.relid JOIN pg_namespace n ON n.oid = r.relnamespace
    WHERE c.depth > 0 AND c.state <> c.parent_state ORDER BY c.depth, 1`),
  );
  return r.rows;
}

/**
 * Catalogs whose objects are named by a signature (`app.total(app.money)`): PostgreSQL 15 and older
 * raise, instead of answering NULL, when a type in it (or its schema) no longer exists, so a
 * binding that left the sources with its type is looked up on its own (lookUpSignature).
 */
const SIGNATURE_CATALOGS: ReadonlySet<string> = new Set<BindingCatalog>(['pg_proc', 'pg_operator']);

/**
 * SQL: the OID of the object a registry row (or these columns) names, by catalog and name; NULL when
 * there is none. `byName` limits it to catalogs it can ask without raising (no signatures).
 */
function objectOidByName(catalog: string, name: string, byName: 'all' | 'no signatures' = 'all'): string {
  const catalogs = BINDING_CATALOGS.filter((c) => byName === 'all' || !SIGNATURE_CATALOGS.has(c));
  return `CASE ${catalog} ${catalogs.map((c) => `WHEN '${c}' THEN (${objectOidSql(c, [`${name}[1]`, `${name}[2]`])})`).join(' ')} END`;
}

/** A signature's OID, or null where PostgreSQL says a type or schema in it does not exist (15 and older raise). */
async function lookUpSignature(tx: Tx, catalog: BindingCatalog, signature: string): Promise<string | null> {
  await tx.execute(sql`SAVEPOINT procver_lookup`);
  try {
    const r = await tx.execute<{ oid: string | null }>(sql.raw(`SELECT (${objectOidSql(catalog, [quoteLiteral(signature)])})::text AS oid`));
    await tx.execute(sql`RELEASE SAVEPOINT procver_lookup`);
    return r.rows[0]?.oid ?? null;
  } catch (e) {
    await tx.execute(sql`ROLLBACK TO SAVEPOINT procver_lookup`);
    await tx.execute(sql`RELEASE SAVEPOINT procver_lookup`);
    if (pgCode(e) === '42704' || pgCode(e) === '3F000') return null; // undefined_object, invalid_schema_name
    throw e;
  }
}

/** SQL: whether the object with this OID is still in this catalog (renamed, say); NULL for an unknown catalog. */
function objectOidExists(catalog: string, oid: string): string {
  return `CASE ${catalog} ${BINDING_CATALOGS.map((c) => `WHEN '${c}' THEN EXISTS (SELECT 1 FROM ${c} WHERE oid = ${oid}::oid)`).join(' ')} END`;
}

/**
 * Records where each binding of the sources is in the database (its catalog, name and current
 * OID), so that push can tell, once it leaves the sources, whether it is still there. Written only
 * where it changed: with the binding's own change, or for a row recorded before procver stored it.
 */
async function recordObjects(tx: Tx, list: CompiledBinding[]): Promise<void> {
  if (list.length === 0) return;
  await tx.execute(sql`
    UPDATE procver.bindings b SET object_catalog = u.catalog, object_name = u.name, object_oid = u.oid
    FROM (SELECT w.identity, w.catalog, w.name, (${sql.raw(objectOidByName('w.catalog', 'w.name'))})::bigint AS oid
          FROM (SELECT i.identity, i.catalog, ARRAY(SELECT jsonb_array_elements_text(i.name)) AS name
                FROM unnest(${sql.param(list.map((b) => b.identity))}::text[], ${sql.param(list.map((b) => b.object.catalog))}::text[],
                            ${sql.param(list.map((b) => JSON.stringify(b.object.name)))}::jsonb[]) AS i(identity, catalog, name)) w) u
    WHERE b.identity = u.identity AND (b.object_catalog, b.object_name, b.object_oid) IS DISTINCT FROM (u.catalog, u.name, u.oid)`);
}

/**
 * Registered bindings that are no longer in the sources: one gone from the database too (neither
 * its recorded OID nor its name is there) is removed from the registry, with a binding.forget audit
 * entry keeping what it was, so its versions are no longer referenced; so is one whose object is now
 * a binding of these sources under another identity (its table renamed, say: CREATE OR REPLACE
 * kept the OID). One still in the database still calls its versions and stays; so does one
 * recorded before procver stored where to look (when in doubt, keep).
 */
async function forgetGoneBindings(tx: Tx, list: CompiledBinding[], actor: string, out: BindingsPushed): Promise<void> {
  const identities = sql.param(list.map((b) => b.identity));
  const left = (
    await tx.execute<{
      id: number;
      identity: string;
      statements: string[];
      object_catalog: string | null;
      object_name: string[] | null;
      object_oid: string | null;
      versions: string[] | null;
      /** the OID it has in the database now (the recorded one if still there, else the one its name finds) */
      found: string | null;
    }>(sql`
    SELECT b.id, b.identity, b.statements, b.object_catalog, b.object_name, b.object_oid::text,
           CASE WHEN ${sql.raw(objectOidExists('b.object_catalog', 'b.object_oid'))} THEN b.object_oid
                ELSE (${sql.raw(objectOidByName('b.object_catalog', 'b.object_name', 'no signatures'))})::bigint END::text AS found,
           (SELECT array_agg(v.schema || '.' || v.physical_name ORDER BY 1) FROM procver.binding_versions bv
              JOIN procver.versions v ON v.id = bv.version_id WHERE bv.binding_id = b.id) AS versions
    FROM procver.bindings b WHERE b.identity <> ALL(${identities}::text[]) ORDER BY b.identity`)
  ).rows;
  for (const r of left) {
    if (r.found === null && r.object_catalog !== null && SIGNATURE_CATALOGS.has(r.object_catalog) && r.object_name?.[0]) {
      r.found = await lookUpSignature(tx, r.object_catalog as BindingCatalog, r.object_name[0]);
    }
  }
  // The binding of these sources now at the same object, if any (its table renamed, say).
  const taken = await tx.execute<{ catalog: string; oid: string; identity: string }>(sql`
    SELECT o.object_catalog AS catalog, o.object_oid::text AS oid, min(o.identity) AS identity FROM procver.bindings o
    WHERE o.identity = ANY(${identities}::text[]) AND o.object_oid IS NOT NULL GROUP BY 1, 2`);
  const takenBy = (r: (typeof left)[number]) => taken.rows.find((t) => t.catalog === r.object_catalog && t.oid === r.found)?.identity ?? null;
  const rows = left.map((r) => ({ ...r, taken_by: r.found === null ? null : takenBy(r) }));
  const gone = rows.filter((r) => r.object_catalog !== null && (r.found === null || r.taken_by !== null));
  for (const r of rows) {
    if (!gone.includes(r)) out.notInSources.push({ identity: r.identity, versions: r.versions ?? [], inDatabase: r.object_catalog === null ? null : true });
  }
  if (gone.length === 0) return;
  await tx.execute(sql`DELETE FROM procver.bindings WHERE id = ANY(${sql.param(gone.map((r) => Number(r.id)))}::int[])`);
  for (const r of gone) {
    await writeAudit(tx, {
      actor,
      action: 'binding.forget',
      targetType: 'binding',
      target: r.identity,
      reason: forgottenWording(r.taken_by),
      before: {
        versions: r.versions ?? [],
        statements: r.statements,
        object: { catalog: r.object_catalog, name: r.object_name, oid: r.object_oid === null ? null : Number(r.object_oid) },
      },
      after: null,
    });
    out.forgotten.push({ identity: r.identity, takenBy: r.taken_by });
  }
}

/**
 * What is wrong in the database with each unchanged binding: missing, not calling its versions
 * (someone re-created it on the unversioned function) or, for triggers, not firing as the sources
 * declare (someone disabled it); bindings in place are left out. One query for all of them.
 */
async function inspect(tx: Tx, list: CompiledBinding[]): Promise<Map<string, RepairFindings>> {
  const out = new Map<string, RepairFindings>();
  if (list.length === 0) return out;
  const columns = list.map((b, i) => `(${b.probe.exists}) AS e${i}, (${b.probe.calls}) AS c${i}, (${b.probe.state ?? 'NULL'}) AS s${i}`);
  const row = (await tx.execute<Record<string, boolean | FiringState | null>>(sql.raw(`SELECT ${columns.join(', ')}`))).rows[0]!;
  list.forEach((b, i) => {
    const state = row[`s${i}`] as FiringState | null;
    const f: RepairFindings = {
      missing: row[`e${i}`] !== true,
      pointsElsewhere: row[`e${i}`] === true && row[`c${i}`] !== true,
      fires: b.declaredState && state !== null && state !== b.declaredState ? { found: state, declared: b.declaredState } : null,
    };
    if (f.missing || f.pointsElsewhere || f.fires) out.set(b.identity, f);
  });
  return out;
}

export interface BindingReference {
  versionId: number;
  /** "trigger touch on app.items", or "entry point app.audit(integer)" */
  label: string;
  kind: string;
  movedAt: Date;
}

/**
 * Bindings and entry points pointing at these versions: references that keep a version from
 * cleanup exactly like a live deployment, and what the procedure and version pages list.
 */
export async function bindingReferences(db: Db | Tx, versionIds: number[]): Promise<Map<number, BindingReference[]>> {
  const out = new Map<number, BindingReference[]>();
  if (versionIds.length === 0) return out;
  const r = await db.execute<{ version_id: number; label: string; kind: string; moved_at: string }>(sql`
    SELECT bv.version_id, b.identity AS label, b.kind, b.moved_at::text
    FROM procver.binding_versions bv JOIN procver.bindings b ON b.id = bv.binding_id
    WHERE bv.version_id = ANY(${sql.param(versionIds)}::bigint[])
    UNION ALL
    SELECT e.version_id, 'entry point ' || p.schema || '.' || p.name || '(' || p.args || ')', 'entry point', e.moved_at::text
    FROM procver.entry_points e JOIN procver.procedures p ON p.id = e.procedure_id
    WHERE e.version_id = ANY(${sql.param(versionIds)}::bigint[])
    ORDER BY 2`);
  for (const row of r.rows) {
    const id = Number(row.version_id);
    const ref = { versionId: id, label: row.label, kind: row.kind, movedAt: new Date(row.moved_at) };
    out.set(id, [...(out.get(id) ?? []), ref]);
  }
  return out;
}
