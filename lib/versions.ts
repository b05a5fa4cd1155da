import { and, asc, eq, inArray, isNotNull, or, sql } from 'drizzle-orm';
import { writeAudit } from './audit';
import { bindingReferences } from './bindings';
import type { Db, Tx } from './db/client';
import { deployments, deploymentVersions, procedures, versions, type Version } from './db/schema';
import { forgetReplicaBarriers, NOT_QUARANTINED } from './cleanup/barrier';
import { recreateDropped, recreateFromSource, unquarantine, type RestoreHow } from './cleanup/restore';
import { signature } from './cleanup/snapshot';
import { driftedDefinitions, findDrift, recordCode, type DriftInfo } from './drift';
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
  /** restore only: managed versions it calls that came back with it (they were quarantined or dropped) */
  restoredCallees: string[];
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

/**
 * What would break if this version stopped working: live and pending deployments, and the
 * bindings (triggers, aggregates, operators, policies …) and entry points that call it.
 */
async function protectingReferences(tx: Tx, versionId: number): Promise<string[]> {
  const rows = await tx
    .select({ app: deployments.app, deploymentId: deployments.deploymentId, status: deployments.status })
    .from(deploymentVersions)
    .innerJoin(deployments, eq(deployments.id, deploymentVersions.deploymentId))
    .where(and(eq(deploymentVersions.versionId, versionId), inArray(deployments.status, ['live', 'pending'])));
  const bound = (await bindingReferences(tx, [versionId])).get(versionId) ?? [];
  return [...rows.map((r) => `${r.app}/${r.deploymentId} (${r.status})`).sort(), ...bound.map((b) => `bound: ${b.label}`)];
}

/**
 * Marks a version retired: a person's decision that it should go, reversible until cleanup drops it.
 * Refused while a live or pending deployment, a binding or an entry point references it, unless an
 * admin overrides (cleanup keeps a bound version all the same). Takes the registry lock first, as
 * push and deployment changes do, so the refusal sees every binding and deployment committed before
 * it; a push queued behind a retire may still bind the retired version (it says so, and cleanup keeps
 * a bound version).
 */
export async function retireVersion(db: Db, change: StatusChange): Promise<StatusChangeResult> {
  const reason = requireReason(change.reason);
  return db.transaction(async (tx) => {
    await lockRegistry(tx);
    const v = await lockVersion(tx, change.name);
    checkRevision(v, change.expectedRevision, change.name);
    if (v.status !== 'live') throw new ProcverError('conflict', `${change.name} is ${v.status}, not live`);
    const protecting = await protectingReferences(tx, v.id);
    if (protecting.length > 0 && !change.override) {
      throw new ProcverError(
        'conflict',
        `${change.name} is referenced by ${protecting.length} live or pending deployment(s), binding(s) or entry point(s); retiring it would break them (push sources that point the bindings elsewhere first)`,
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
    return {
      physicalName: v.physicalName,
      schema: v.schema,
      status: 'retired',
      revision: updated!.revision,
      overriddenDeployments: protecting,
      restoredCallees: [],
    };
  });
}

/**
 * Puts a version back to live: a retired one by flipping its status, a quarantined one by renaming
 * it back (same OID), a dropped one by re-creating it exactly from what cleanup stored. Managed
 * versions it calls that cleanup quarantined or dropped come back with it, first, in the same
 * transaction, each with its audit entry: a restored caller must be able to call them.
 */
export async function restoreVersion(db: Db, change: StatusChange): Promise<StatusChangeResult> {
  const reason = requireReason(change.reason);
  return db.transaction(async (tx) => {
    await lockRegistry(tx);
    const v = await lockVersion(tx, change.name);
    checkRevision(v, change.expectedRevision, change.name);
    if (v.status === 'live') throw new ProcverError('conflict', `${change.name} is already live`);
    const restored = await restoreWithCallees(tx, [v], reason, change.actor);
    const self = restored.find((r) => r.id === v.id)!;
    return {
      physicalName: v.physicalName,
      schema: v.schema,
      status: 'live',
      revision: self.revision,
      overriddenDeployments: [],
      restoredCallees: restored.filter((r) => r.id !== v.id).map((r) => r.name),
    };
  });
}

/** A retired version needs only its status back, unless someone dropped it by hand: then its source brings it back. */
async function stillThere(tx: Tx, v: Version): Promise<{ oid: number; how: RestoreHow | 'status' }> {
  const fn = await signature(tx, v.schema, v.physicalName);
  return fn ? { oid: fn.oid, how: 'status' } : recreateFromSource(tx, v);
}

export interface RestoredVersion {
  id: number;
  /** schema.physical_name */
  name: string;
  revision: number;
  how: RestoreHow | 'status';
  /** set when it came back because a restored version calls it */
  calledBy: string | null;
}

/**
 * Restores these versions (none of them live) and every managed version they call, directly or
 * not, that is not in the database under its name (quarantined or dropped): callees first, so that
 * PostgreSQL can validate each caller's body. Runs in the caller's transaction, which holds the
 * registry lock.
 */
export async function restoreWithCallees(tx: Tx, targets: Version[], reason: string, actor: string): Promise<RestoredVersion[]> {
  const all = new Map(targets.map((v) => [v.id, v]));
  const calledBy = new Map<number, string>();
  for (let frontier = targets; frontier.length > 0; ) {
    const names = [...new Set(frontier.flatMap((v) => v.callees.filter((c) => c !== v.physicalName)))];
    if (names.length === 0) break;
    const rows = await tx
      .select()
      .from(versions)
      .where(and(inArray(versions.physicalName, names), or(eq(versions.status, 'dropped'), isNotNull(versions.quarantineName))))
      .for('update');
    frontier = rows.filter((r) => !all.has(r.id));
    for (const r of frontier) {
      all.set(r.id, r);
      const caller = [...all.values()].find((c) => c.callees.includes(r.physicalName) && c.id !== r.id);
      calledBy.set(r.id, `${caller!.schema}.${caller!.physicalName}`);
    }
  }
  // Depth first: each version after every version it calls.
  const byName = new Map<string, Version[]>();
  for (const v of all.values()) byName.set(v.physicalName, [...(byName.get(v.physicalName) ?? []), v]);
  const ordered: Version[] = [];
  const seen = new Set<number>();
  const visit = (v: Version) => {
    if (seen.has(v.id)) return;
    seen.add(v.id);
    for (const c of v.callees) if (c !== v.physicalName) for (const w of byName.get(c) ?? []) visit(w);
    ordered.push(v);
  };
  for (const v of all.values()) visit(v);

  const restored: RestoredVersion[] = [];
  for (const v of ordered) {
    const via = calledBy.get(v.id) ?? null;
    const { oid, how } = v.status === 'dropped' ? await recreateDropped(tx, v) : v.quarantineName ? await unquarantine(tx, v) : await stillThere(tx, v);
    const [updated] = await tx
      .update(versions)
      .set({
        status: 'live',
        oid,
        ...(how === 'recreated' || how === 'source' ? recordCode(oid) : {}),
        ...NOT_QUARANTINED,
        statusChangedAt: sql`now()`,
        revision: sql`${versions.revision} + 1`,
      })
      .where(eq(versions.id, v.id))
      .returning();
    await forgetReplicaBarriers(tx, [v.id]);
    const name = `${v.schema}.${v.physicalName}`;
    await writeAudit(tx, {
      actor,
      action: 'version.restore',
      targetType: 'version',
      target: name,
      reason: via ? `${reason} (called by ${via}, restored with it)` : reason,
      before: { status: v.status, revision: v.revision, ...(v.quarantineName ? { name: v.quarantineName } : {}) },
      after: { status: 'live', revision: updated!.revision, how, ...(via ? { calledBy: via } : {}) },
    });
    restored.push({ id: v.id, name, revision: updated!.revision, how, calledBy: via });
  }
  return restored;
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
  /** set when its code in the database is not what procver created: how, and what is there instead */
  drift: { info: DriftInfo; definitions: string[] } | null;
}

export async function getVersionDetail(db: Db, schema: string, physicalName: string): Promise<VersionDetail | null> {
  const [row] = await db
    .select({ version: versions, procedure: procedures })
    .from(versions)
    .innerJoin(procedures, eq(procedures.id, versions.procedureId))
    .where(and(eq(versions.schema, schema), eq(versions.physicalName, physicalName)));
  if (!row) return null;
  const brief = { schema: versions.schema, physicalName: versions.physicalName, status: versions.status };
  const [siblings, callees, callers, deps, drift] = await Promise.all([
    db
      .select({ id: versions.id, schema: versions.schema, physicalName: versions.physicalName, status: versions.status, createdAt: versions.createdAt })
      .from(versions)
      .where(and(eq(versions.procedureId, row.procedure.id), sql`${versions.id} <> ${row.version.id}`))
      .orderBy(sql`${versions.createdAt} DESC, ${versions.id} DESC`),
    row.version.callees.length === 0
      ? Promise.resolve([])
      : db.select(brief).from(versions).where(inArray(versions.physicalName, row.version.callees)).orderBy(asc(versions.physicalName)),
    db.select(brief).from(versions).where(sql`${versions.callees} @> ARRAY[${physicalName}]::text[]`).orderBy(asc(versions.physicalName)),
    db
      .select({ app: deployments.app, deploymentId: deployments.deploymentId, status: deployments.status })
      .from(deploymentVersions)
      .innerJoin(deployments, eq(deployments.id, deploymentVersions.deploymentId))
      .where(eq(deploymentVersions.versionId, row.version.id))
      .orderBy(asc(deployments.app), asc(deployments.deploymentId)),
    findDrift(db, { versionIds: [row.version.id] }).then(async (found) => {
      const info = found.get(row.version.id);
      return info ? { info, definitions: await driftedDefinitions(db, info) } : null;
    }),
  ]);
  return { ...row, siblings, callees, callers, deployments: deps, drift };
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
