import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import { writeAudit } from './audit';
import type { Db, Tx } from './db/client';
import { deployments, deploymentVersions, procedures, versions, type Version } from './db/schema';
import { recreateDropped, unquarantine } from './cleanup/restore';
import { fingerprintOf } from './drift';
import { ProcverError } from './errors';
import { lockRegistry } from './locks';

export interface StatusChange {
  /** `physical_name`, or `schema.physical_name` where the bare name is in several schemas */
  name: string;
  reason: string;
  actor: string;
  /** the revision the operator was looking at; a different one means someone changed it meanwhile */
  expectedRevision?: number;
  /** retire even though live or pending deployments reference it (an admin decision, audited) */
  override?: boolean;
}

export interface StatusChangeResult {
  physicalName: string;
  schema: string;
  status: Version['status'];
  revision: number;
  overriddenDeployments: string[];
}

/** Finds a version by physical name (schema-qualified where the bare name is ambiguous), locked. */
async function lockVersion(tx: Tx, name: string): Promise<Version> {
  const rows = await tx
    .select()
    .from(versions)
    .where(sql`${versions.physicalName} = ${name} OR ${versions.schema} || '.' || ${versions.physicalName} = ${name}`)
    .for('update');
  if (rows.length === 0) throw new ProcverError('not_found', `no version named ${name}`);
  if (rows.length > 1) {
    throw new ProcverError('invalid_input', `${name} exists in several schemas; qualify it: ${rows.map((r) => `${r.schema}.${r.physicalName}`).join(', ')}`);
  }
  return rows[0]!;
}

function requireReason(reason: string): string {
  const r = reason.trim();
  if (r.length === 0) throw new ProcverError('invalid_input', 'a reason is required');
  if (r.length > 2000) throw new ProcverError('invalid_input', 'the reason is longer than 2000 characters');
  return r;
}

function checkRevision(v: Version, expected: number | undefined, name: string): void {
  if (expected !== undefined && v.revision !== expected) {
    throw new ProcverError(
      'conflict',
      `${name} changed meanwhile (now ${v.status}, revision ${v.revision}; you saw revision ${expected}); reload and decide again`,
      [],
      'changed',
    );
  }
}

/** Deployments that would break if this version stopped working: live and pending ones. */
async function protectingDeployments(tx: Tx, versionId: number): Promise<string[]> {
  const rows = await tx
    .select({ app: deployments.app, deploymentId: deployments.deploymentId, status: deployments.status })
    .from(deploymentVersions)
    .innerJoin(deployments, eq(deployments.id, deploymentVersions.deploymentId))
    .where(and(eq(deploymentVersions.versionId, versionId), inArray(deployments.status, ['live', 'pending'])));
  return rows.map((r) => `${r.app}/${r.deploymentId} (${r.status})`).sort();
}

/**
 * Marks a version retired: a person's decision that it should go, reversible until cleanup drops it.
 * Refused while a live or pending deployment references it, unless an admin overrides.
 */
export async function retireVersion(db: Db, change: StatusChange): Promise<StatusChangeResult> {
  const reason = requireReason(change.reason);
  return db.transaction(async (tx) => {
    const v = await lockVersion(tx, change.name);
    checkRevision(v, change.expectedRevision, change.name);
    if (v.status !== 'live') throw new ProcverError('conflict', `${change.name} is ${v.status}, not live`);
    const protecting = await protectingDeployments(tx, v.id);
    if (protecting.length > 0 && !change.override) {
      throw new ProcverError(
        'conflict',
        `${change.name} is referenced by ${protecting.length} live or pending deployment(s); retiring it would break them`,
        protecting,
        'referenced',
      );
    }
    const [updated] = await tx
      .update(versions)
      .set({ status: 'retired', statusChangedAt: sql`now()`, revision: sql`${versions.revision} + 1` })
      .where(eq(versions.id, v.id))
      .returning();
    await writeAudit(tx, {
      actor: change.actor,
      action: protecting.length > 0 ? 'version.retire.override' : 'version.retire',
      targetType: 'version',
      target: `${v.schema}.${v.physicalName}`,
      reason,
      before: { status: v.status, revision: v.revision },
      after: { status: 'retired', revision: updated!.revision, ...(protecting.length > 0 ? { overriddenDeployments: protecting } : {}) },
    });
    return { physicalName: v.physicalName, schema: v.schema, status: 'retired', revision: updated!.revision, overriddenDeployments: protecting };
  });
}

/**
 * Puts a version back to live: a retired one by flipping its status, a quarantined one by renaming
 * it back (same OID), a dropped one by re-creating it exactly from what cleanup stored.
 */
export async function restoreVersion(db: Db, change: StatusChange): Promise<StatusChangeResult> {
  const reason = requireReason(change.reason);
  return db.transaction(async (tx) => {
    await lockRegistry(tx);
    const v = await lockVersion(tx, change.name);
    checkRevision(v, change.expectedRevision, change.name);
    if (v.status === 'live') throw new ProcverError('conflict', `${change.name} is already live`);
    const how = v.status === 'dropped' ? 'recreated' : v.quarantineName ? 'unquarantined' : 'status';
    const oid = how === 'recreated' ? await recreateDropped(tx, v) : how === 'unquarantined' ? await unquarantine(tx, v) : v.oid;
    const [updated] = await tx
      .update(versions)
      .set({ status: 'live', oid, ...(how === 'recreated' ? { codeFingerprint: fingerprintOf(oid!) } : {}), quarantineName: null, quarantinedAt: null, statusChangedAt: sql`now()`, revision: sql`${versions.revision} + 1` })
      .where(eq(versions.id, v.id))
      .returning();
    await writeAudit(tx, {
      actor: change.actor,
      action: 'version.restore',
      targetType: 'version',
      target: `${v.schema}.${v.physicalName}`,
      reason,
      before: { status: v.status, revision: v.revision, ...(v.quarantineName ? { name: v.quarantineName } : {}) },
      after: { status: 'live', revision: updated!.revision, how },
    });
    return { physicalName: v.physicalName, schema: v.schema, status: 'live', revision: updated!.revision, overriddenDeployments: [] };
  });
}

export interface VersionDetail {
  version: Version;
  procedure: typeof procedures.$inferSelect;
  /** other versions of the same procedure, newest first: what it can be diffed against */
  siblings: Pick<Version, 'id' | 'schema' | 'physicalName' | 'status' | 'createdAt'>[];
  /** managed versions this one calls, and those that call it */
  callees: Pick<Version, 'schema' | 'physicalName' | 'status'>[];
  callers: Pick<Version, 'schema' | 'physicalName' | 'status'>[];
  deployments: { app: string; deploymentId: string; status: string }[];
}

export async function getVersionDetail(db: Db, schema: string, physicalName: string): Promise<VersionDetail | null> {
  const [row] = await db
    .select({ version: versions, procedure: procedures })
    .from(versions)
    .innerJoin(procedures, eq(procedures.id, versions.procedureId))
    .where(and(eq(versions.schema, schema), eq(versions.physicalName, physicalName)));
  if (!row) return null;
  const brief = { schema: versions.schema, physicalName: versions.physicalName, status: versions.status };
  const [siblings, callees, callers, deps] = await Promise.all([
    db
      .select({ id: versions.id, schema: versions.schema, physicalName: versions.physicalName, status: versions.status, createdAt: versions.createdAt })
      .from(versions)
      .where(and(eq(versions.procedureId, row.procedure.id), sql`${versions.id} <> ${row.version.id}`))
      .orderBy(sql`${versions.createdAt} DESC, ${versions.id} DESC`),
    row.version.callees.length === 0
      ? Promise.resolve([])
      : db.select(brief).from(versions).where(inArray(versions.physicalName, row.version.callees)).orderBy(asc(versions.physicalName)),
    db
      .select(brief)
      .from(versions)
      .where(sql`${versions.callees} @> ARRAY[${physicalName}]::text[]`)
      .orderBy(asc(versions.physicalName)),
    db
      .select({ app: deployments.app, deploymentId: deployments.deploymentId, status: deployments.status })
      .from(deploymentVersions)
      .innerJoin(deployments, eq(deployments.id, deploymentVersions.deploymentId))
      .where(eq(deploymentVersions.versionId, row.version.id))
      .orderBy(asc(deployments.app), asc(deployments.deploymentId)),
  ]);
  return { ...row, siblings, callees, callers, deployments: deps };
}

/** Versions cleanup dropped, newest first: each can be restored exactly. */
export async function listDropped(db: Db, limit = 100) {
  return db
    .select({
      schema: versions.schema,
      physicalName: versions.physicalName,
      revision: versions.revision,
      droppedAt: versions.droppedAt,
      procedure: sql<string>`${procedures.schema} || '.' || ${procedures.name} || '(' || ${procedures.args} || ')'`,
    })
    .from(versions)
    .innerJoin(procedures, eq(procedures.id, versions.procedureId))
    .where(eq(versions.status, 'dropped'))
    .orderBy(sql`${versions.droppedAt} DESC NULLS LAST`)
    .limit(limit);
}
