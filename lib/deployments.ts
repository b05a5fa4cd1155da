import { and, asc, desc, eq, inArray, isNotNull, or, sql } from 'drizzle-orm';
import { writeAudit } from './audit';
import type { Manifest } from './compile/manifest';
import type { Db, Tx } from './db/client';
import { deployments, deploymentVersions, procedures, versions, type Deployment } from './db/schema';
import { ProcverError } from './errors';
import { QUARANTINE_EXPLAINED } from './cleanup/tripwire';
import { decodeCursor, encodeCursor } from './cursor';
import { lockRegistry } from './locks';
import { z } from 'zod';
import { checkDeploymentKey } from './deploymentNames';
import { resolveManifest, type ResolvedEntry } from './manifests';
import { restoreWithCallees, type RestoredVersion } from './versions';

export interface AddDeploymentInput {
  app: string;
  deploymentId: string;
  manifest: Manifest;
  live: boolean;
  /** put it live although it references retired versions (an admin decision, audited); never past a quarantined one */
  override?: boolean;
  actor: string;
}

/** Problems that do not stop registering a deployment, only putting it live (retired, quarantined) or that need a person's eye (drifted). */
const WARNINGS = new Set(['retired', 'quarantined', 'drifted']);

/**
 * Registers a frontend deployment and the versions it references (all of which must exist). It
 * says which of them are retired, quarantined or drifted; putting it live at once (`live`) is
 * refused while any is quarantined (about to be dropped, only a tripwire under its name), and
 * while any is retired unless overridden, which the audit log records.
 */
export async function addDeployment(db: Db, input: AddDeploymentInput): Promise<{ id: number; versions: number; warnings: ResolvedEntry[] }> {
  checkDeploymentKey(input.app, input.deploymentId);
  return db.transaction(async (tx) => {
    await lockRegistry(tx);
    const resolved = await resolveManifest(tx, input.manifest);
    const unusable = resolved.filter((r) => r.problem !== null && !WARNINGS.has(r.problem));
    if (unusable.length > 0) {
      throw new ProcverError(
        'invalid_input',
        `deployment ${input.app}/${input.deploymentId} refused: its manifest references ${unusable.length} version(s) that are not in the database`,
        unusable.map((r) => `${r.label}: ${r.message}`),
      );
    }
    const warnings = resolved.filter((r) => r.problem !== null);
    const quarantined = warnings.filter((r) => r.problem === 'quarantined');
    const retired = warnings.filter((r) => r.problem === 'retired');
    const live = `register it without --live, restore them (procver restore --deployment ${input.app}/${input.deploymentId} --reason <why>), then put it live`;
    // A quarantined version is on its way to being dropped, behind a tripwire that counts its calls
    // as a caller cleanup missed (and refuses the shapes it cannot forward): a deployment that
    // needs it must bring it back under its own name first, so no override puts it live.
    if (input.live && quarantined.length > 0) {
      throw new ProcverError(
        'conflict',
        `deployment ${input.app}/${input.deploymentId} not registered: it would go live calling ${quarantined.length} quarantined version(s), each ${QUARANTINE_EXPLAINED}; ${live}`,
        quarantined.map((r) => `${r.label}: ${r.message}`),
        'referenced',
      );
    }
    if (input.live && retired.length > 0 && !input.override) {
      throw new ProcverError(
        'conflict',
        `deployment ${input.app}/${input.deploymentId} not registered: it would go live calling ${retired.length} retired version(s); ${live}; or --override`,
        retired.map((r) => `${r.label}: ${r.message}`),
        'referenced',
      );
    }
    const inserted = await tx
      .insert(deployments)
      .values({ app: input.app, deploymentId: input.deploymentId, manifest: input.manifest, registeredBy: input.actor })
      .onConflictDoNothing()
      .returning({ id: deployments.id });
    if (!inserted[0]) throw new ProcverError('conflict', `deployment ${input.app}/${input.deploymentId} is already registered`);
    const id = inserted[0].id;
    const versionIds = [...new Set(resolved.map((r) => r.versionId!))];
    if (versionIds.length > 0) await tx.insert(deploymentVersions).values(versionIds.map((versionId) => ({ deploymentId: id, versionId })));
    await writeAudit(tx, {
      actor: input.actor,
      action: 'deployment.add',
      targetType: 'deployment',
      target: `${input.app}/${input.deploymentId}`,
      after: {
        status: 'pending',
        versions: versionIds.length,
        ...(warnings.length > 0 ? { warnings: warnings.map((w) => `${w.label}: ${w.problem}`) } : {}),
      },
    });
    if (input.live)
      await makeLive(
        tx,
        input.app,
        input.deploymentId,
        input.actor,
        retired.map((r) => `${r.label}: ${r.problem}`),
      );
    return { id, versions: versionIds.length, warnings };
  });
}

/**
 * Marks a deployment live; the app's live deployment becomes `previous` (a rollback target).
 * Rolling back is this same call on an older deployment: refused if any of its versions is gone.
 */
export async function markLive(db: Db, app: string, deploymentId: string, actor: string): Promise<{ previous: string | null }> {
  return db.transaction(async (tx) => {
    await lockRegistry(tx);
    return makeLive(tx, app, deploymentId, actor);
  });
}

/** `overridden`: retired versions an admin chose to go live with (recorded in the audit entry). */
async function makeLive(tx: Tx, app: string, deploymentId: string, actor: string, overridden: string[] = []): Promise<{ previous: string | null }> {
  const rows = await tx.select().from(deployments).where(eq(deployments.app, app)).for('update');
  const target = rows.find((d) => d.deploymentId === deploymentId);
  if (!target) throw new ProcverError('not_found', `no deployment ${app}/${deploymentId}; register it with \`procver deployments add\``);
  if (target.status === 'live') return { previous: null };

  const dropped = await tx
    .select({ schema: procedures.schema, name: procedures.name, args: procedures.args, physicalName: versions.physicalName })
    .from(deploymentVersions)
    .innerJoin(versions, eq(versions.id, deploymentVersions.versionId))
    .innerJoin(procedures, eq(procedures.id, versions.procedureId))
    // A quarantined version is about to be dropped: it must be back under its own name before a
    // deployment relies on it, just as a dropped one.
    .where(and(eq(deploymentVersions.deploymentId, target.id), or(eq(versions.status, 'dropped'), isNotNull(versions.quarantineName))));
  if (dropped.length > 0) {
    throw new ProcverError(
      'conflict',
      `deployment ${app}/${deploymentId} calls ${dropped.length} version(s) that cleanup dropped or quarantined (a quarantined one is ${QUARANTINE_EXPLAINED}); restore these ${dropped.length} version(s) first: procver restore --deployment ${app}/${deploymentId} --reason <why>`,
      dropped.map((d) => `${d.schema}.${d.name}(${d.args}) -> ${d.physicalName}`),
    );
  }

  const current = rows.find((d) => d.status === 'live');
  if (current) {
    await tx.update(deployments).set({ status: 'previous', supersededAt: sql`now()`, statusChangedAt: sql`now()` }).where(eq(deployments.id, current.id));
  }
  await tx.update(deployments).set({ status: 'live', liveAt: sql`now()`, statusChangedAt: sql`now()` }).where(eq(deployments.id, target.id));
  await writeAudit(tx, {
    actor,
    action: overridden.length > 0 ? 'deployment.live.override' : 'deployment.live',
    targetType: 'deployment',
    target: `${app}/${deploymentId}`,
    before: { status: target.status, live: current?.deploymentId ?? null },
    after: { status: 'live', previous: current?.deploymentId ?? null, ...(overridden.length > 0 ? { overriddenVersions: overridden } : {}) },
  });
  return { previous: current?.deploymentId ?? null };
}

export interface DeploymentSummary {
  app: string;
  deploymentId: string;
  status: Deployment['status'];
  createdAt: Date;
  liveAt: Date | null;
  /** when it last stopped being live (replaced by another deployment of the app) */
  supersededAt: Date | null;
  versions: number;
  retired: number;
  dropped: number;
  /** last time a session named `<app>@<deployment-id>` was seen on any instance */
  lastSeenAt: Date | null;
}

export async function listDeployments(db: Db | Tx, app?: string): Promise<DeploymentSummary[]> {
  const rows = await db
    .select({
      app: deployments.app,
      deploymentId: deployments.deploymentId,
      status: deployments.status,
      createdAt: deployments.createdAt,
      liveAt: deployments.liveAt,
      supersededAt: deployments.supersededAt,
      versions: sql<number>`count(${versions.id})::int`,
      retired: sql<number>`count(*) FILTER (WHERE ${versions.status} = 'retired')::int`,
      dropped: sql<number>`count(*) FILTER (WHERE ${versions.status} = 'dropped')::int`,
      lastSeenAt: sql<Date | null>`(SELECT max(s.last_seen_at) FROM procver.deployment_sightings s
        WHERE s.app = ${deployments.app} AND s.deployment_id = ${deployments.deploymentId})`.mapWith((v: string | null) => (v === null ? null : new Date(v))),
    })
    .from(deployments)
    .leftJoin(deploymentVersions, eq(deploymentVersions.deploymentId, deployments.id))
    .leftJoin(versions, eq(versions.id, deploymentVersions.versionId))
    .where(app ? eq(deployments.app, app) : undefined)
    .groupBy(deployments.id)
    .orderBy(asc(deployments.app), desc(deployments.createdAt), desc(deployments.id));
  return rows;
}

export interface DeploymentPage {
  rows: DeploymentSummary[];
  /** cursor for older deployments, null when these are the oldest */
  older: string | null;
}

const deploymentCursor = z.object({ at: z.string().datetime({ offset: true }), id: z.number().int() });

/**
 * Deployments newest first, a page at a time (keyset), with the counts that show a broken rollback
 * target, computed for the page's deployments only.
 */
export async function pageDeployments(db: Db, opts: { older?: string; limit?: number } = {}): Promise<DeploymentPage> {
  const limit = Math.min(Math.max(opts.limit ?? 20, 1), 100);
  const c = opts.older ? decodeCursor(deploymentCursor, opts.older) : null;
  const r = await db.execute<{
    id: number;
    app: string;
    deployment_id: string;
    status: Deployment['status'];
    created_at: string;
    created_at_text: string;
    live_at: string | null;
    superseded_at: string | null;
    versions: number;
    retired: number;
    dropped: number;
    last_seen_at: string | null;
  }>(sql`
    WITH page AS (
      SELECT * FROM procver.deployments d
      ${c ? sql`WHERE (d.created_at, d.id) < (${c.at}::timestamptz, ${c.id}::int)` : sql``}
      ORDER BY d.created_at DESC, d.id DESC LIMIT ${limit + 1})
    SELECT page.id, page.app, page.deployment_id, page.status, page.created_at, to_json(page.created_at) #>> '{}' AS created_at_text,
      page.live_at, page.superseded_at, n.versions, n.retired, n.dropped,
      (SELECT max(s.last_seen_at) FROM procver.deployment_sightings s WHERE s.app = page.app AND s.deployment_id = page.deployment_id) AS last_seen_at
    FROM page CROSS JOIN LATERAL (
      SELECT count(*)::int AS versions,
        count(*) FILTER (WHERE v.status = 'retired')::int AS retired,
        count(*) FILTER (WHERE v.status = 'dropped')::int AS dropped
      FROM procver.deployment_versions dv JOIN procver.versions v ON v.id = dv.version_id
      WHERE dv.deployment_id = page.id) n
    ORDER BY page.created_at DESC, page.id DESC`);
  const rows = r.rows.slice(0, limit);
  const last = rows.at(-1);
  const date = (v: string | null) => (v === null ? null : new Date(v));
  return {
    // The cursor keeps PostgreSQL's microseconds: a JavaScript Date would cut them to milliseconds.
    older: r.rows.length > limit && last ? encodeCursor({ at: last.created_at_text, id: Number(last.id) }) : null,
    rows: rows.map((x) => ({
      app: x.app,
      deploymentId: x.deployment_id,
      status: x.status,
      createdAt: new Date(x.created_at),
      liveAt: date(x.live_at),
      supersededAt: date(x.superseded_at),
      versions: x.versions,
      retired: x.retired,
      dropped: x.dropped,
      lastSeenAt: date(x.last_seen_at),
    })),
  };
}

export interface DeploymentVersionRef {
  schema: string;
  procedure: string;
  args: string;
  physicalName: string;
  status: string;
}

const refCursor = z.object({ p: z.number().int(), s: z.string(), n: z.string(), a: z.string(), v: z.string() });

/**
 * The versions one deployment references, retired and dropped ones first (what breaks a rollback),
 * then by procedure; a page at a time, loaded when someone opens the deployment.
 */
export async function deploymentVersionsPage(
  db: Db,
  app: string,
  deploymentId: string,
  opts: { after?: string; limit?: number } = {},
): Promise<{ rows: DeploymentVersionRef[]; next: string | null } | null> {
  const limit = Math.min(Math.max(opts.limit ?? 100, 1), 500);
  const [d] = await db
    .select({ id: deployments.id })
    .from(deployments)
    .where(and(eq(deployments.app, app), eq(deployments.deploymentId, deploymentId)));
  if (!d) return null;
  const c = opts.after ? decodeCursor(refCursor, opts.after) : null;
  const r = await db.execute<{ problem: number; schema: string; procedure: string; args: string; physical_name: string; status: string }>(sql`
    SELECT CASE WHEN v.status = 'live' THEN 1 ELSE 0 END AS problem, p.schema, p.name AS procedure, p.args, v.physical_name, v.status::text AS status
    FROM procver.deployment_versions dv
    JOIN procver.versions v ON v.id = dv.version_id
    JOIN procver.procedures p ON p.id = v.procedure_id
    WHERE dv.deployment_id = ${d.id}
      ${c ? sql`AND (CASE WHEN v.status = 'live' THEN 1 ELSE 0 END, p.schema, p.name, p.args, v.physical_name) > (${c.p}::int, ${c.s}::text, ${c.n}::text, ${c.a}::text, ${c.v}::text)` : sql``}
    ORDER BY 1, p.schema, p.name, p.args, v.physical_name
    LIMIT ${limit + 1}`);
  const rows = r.rows.slice(0, limit);
  const last = rows.at(-1);
  return {
    next: r.rows.length > limit && last ? encodeCursor({ p: Number(last.problem), s: last.schema, n: last.procedure, a: last.args, v: last.physical_name }) : null,
    rows: rows.map((x) => ({ schema: x.schema, procedure: x.procedure, args: x.args, physicalName: x.physical_name, status: x.status })),
  };
}

/**
 * Rolling back to a deployment whose versions were retired or dropped: brings back every one of
 * them, and the managed versions they call, in one transaction (callees first, each with its audit
 * entry), so that the deployment can go live again.
 */
export async function restoreDeploymentVersions(db: Db, app: string, deploymentId: string, reason: string, actor: string): Promise<RestoredVersion[]> {
  const why = reason.trim();
  if (why.length === 0) throw new ProcverError('invalid_input', 'a reason is required');
  return db.transaction(async (tx) => {
    await lockRegistry(tx);
    const [d] = await tx
      .select({ id: deployments.id })
      .from(deployments)
      .where(and(eq(deployments.app, app), eq(deployments.deploymentId, deploymentId)));
    if (!d) throw new ProcverError('not_found', `no deployment ${app}/${deploymentId}; see \`procver deployments list\``);
    const targets = await tx
      .select()
      .from(versions)
      .where(
        and(
          inArray(versions.id, tx.select({ id: deploymentVersions.versionId }).from(deploymentVersions).where(eq(deploymentVersions.deploymentId, d.id))),
          inArray(versions.status, ['dropped', 'retired']),
        ),
      )
      .orderBy(asc(versions.schema), asc(versions.physicalName))
      .for('update');
    return restoreWithCallees(tx, targets, `${why} (rollback to ${app}/${deploymentId})`, actor);
  });
}
