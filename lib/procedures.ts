import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import type { Db } from './db/client';
import { deployments, deploymentVersions, procedures, versions, type DeploymentStatus, type Procedure, type Version } from './db/schema';
import { usageWindows, type UsageWindow } from './usage';

export const procedureSorts = ['name', 'live', 'calls', 'latest', 'deployments'] as const;
export type ProcedureSort = (typeof procedureSorts)[number];

export interface ProcedureRow {
  id: number;
  schema: string;
  name: string;
  args: string;
  kind: string;
  live: number;
  retired: number;
  dropped: number;
  latestPhysicalName: string | null;
  latestCreatedAt: Date | null;
  deployments: number;
  /** calls counted in the window over every instance */
  calls: number;
  /** some version may be inlined by PostgreSQL: its calls are not counted, so the total is unknown */
  uncounted: boolean;
}

export interface ListProceduresOptions {
  q?: string;
  sort?: ProcedureSort;
  dir?: 'asc' | 'desc';
  page?: number;
  pageSize?: number;
  window?: UsageWindow;
}

function likePattern(q: string): string {
  return `%${q.replaceAll('\\', '\\\\').replaceAll('%', '\\%').replaceAll('_', '\\_')}%`;
}

/** Procedures with version counts, calls in the window and deployments, searchable and sorted. */
export async function listProcedures(db: Db, opts: ListProceduresOptions = {}): Promise<{ rows: ProcedureRow[]; total: number }> {
  const hours = usageWindows[opts.window ?? '24h'];
  const pageSize = Math.min(Math.max(opts.pageSize ?? 50, 1), 200);
  const page = Math.max(opts.page ?? 1, 1);
  const where = opts.q ? sql`(${procedures.name} ILIKE ${likePattern(opts.q)} OR ${procedures.schema} ILIKE ${likePattern(opts.q)})` : sql`true`;
  const dir = opts.dir === 'desc' ? sql`DESC` : sql`ASC`;
  const order = {
    name: sql`p.schema ${dir}, p.name ${dir}, p.args ${dir}`,
    live: sql`live ${dir}, p.schema, p.name, p.args`,
    calls: sql`calls ${dir}, p.schema, p.name, p.args`,
    latest: sql`latest_created_at ${dir} NULLS LAST, p.schema, p.name, p.args`,
    deployments: sql`deployments ${dir}, p.schema, p.name, p.args`,
  }[opts.sort ?? 'name'];
  const r = await db.execute<{
    id: number;
    schema: string;
    name: string;
    args: string;
    kind: string;
    live: number;
    retired: number;
    dropped: number;
    latest_physical_name: string | null;
    latest_created_at: string | null;
    deployments: number;
    calls: number;
    uncounted: boolean;
    total: number;
  }>(sql`
    WITH p AS (SELECT * FROM procver.procedures WHERE ${where}),
    stats AS (
      SELECT p.id,
        count(*) FILTER (WHERE v.status = 'live')::int AS live,
        count(*) FILTER (WHERE v.status = 'retired')::int AS retired,
        count(*) FILTER (WHERE v.status = 'dropped')::int AS dropped,
        (array_agg(v.physical_name ORDER BY v.created_at DESC, v.id DESC))[1] AS latest_physical_name,
        max(v.created_at) AS latest_created_at,
        coalesce(bool_or(v.may_be_inlined), false) AS uncounted
      FROM p LEFT JOIN procver.versions v ON v.procedure_id = p.id GROUP BY p.id),
    calls AS (
      SELECT v.procedure_id AS id, sum(h.calls)::float8 AS calls
      FROM procver.usage_hourly h JOIN procver.versions v ON v.id = h.version_id
      WHERE v.procedure_id IN (SELECT id FROM p) AND h.hour >= date_trunc('hour', now()) - make_interval(hours => ${hours - 1})
      GROUP BY v.procedure_id),
    deps AS (
      SELECT v.procedure_id AS id, count(DISTINCT dv.deployment_id)::int AS deployments
      FROM procver.deployment_versions dv JOIN procver.versions v ON v.id = dv.version_id
      WHERE v.procedure_id IN (SELECT id FROM p) GROUP BY v.procedure_id)
    SELECT p.id, p.schema, p.name, p.args, p.kind::text AS kind, s.live, s.retired, s.dropped, s.latest_physical_name,
      s.latest_created_at, coalesce(d.deployments, 0) AS deployments, coalesce(c.calls, 0) AS calls, s.uncounted,
      count(*) OVER ()::int AS total
    FROM p JOIN stats s ON s.id = p.id LEFT JOIN calls c ON c.id = p.id LEFT JOIN deps d ON d.id = p.id
    ORDER BY ${order}
    LIMIT ${pageSize} OFFSET ${(page - 1) * pageSize}`);
  const total = r.rows[0]?.total ?? (page > 1 ? (await listProcedures(db, { ...opts, page: 1 })).total : 0);
  return {
    total: Number(total),
    rows: r.rows.map((x) => ({
      id: Number(x.id),
      schema: x.schema,
      name: x.name,
      args: x.args,
      kind: x.kind,
      live: x.live,
      retired: x.retired,
      dropped: x.dropped,
      latestPhysicalName: x.latest_physical_name,
      latestCreatedAt: x.latest_created_at === null ? null : new Date(x.latest_created_at),
      deployments: x.deployments,
      calls: Number(x.calls),
      uncounted: x.uncounted,
    })),
  };
}

export interface VersionWithDeployments extends Version {
  deployments: { app: string; deploymentId: string; status: DeploymentStatus }[];
}

export interface ProcedureGroup {
  schema: string;
  name: string;
  /** one entry per overload, each with its versions, newest first */
  overloads: (Procedure & { versions: VersionWithDeployments[] })[];
}

/** A procedure name with all its overloads and every version of each, with the deployments using them. */
export async function getProcedureGroup(db: Db, schema: string, name: string): Promise<ProcedureGroup | null> {
  const procs = await db
    .select()
    .from(procedures)
    .where(and(eq(procedures.schema, schema), eq(procedures.name, name)))
    .orderBy(asc(procedures.args));
  if (procs.length === 0) return null;
  const vs = await db
    .select()
    .from(versions)
    .where(
      inArray(
        versions.procedureId,
        procs.map((p) => p.id),
      ),
    )
    .orderBy(sql`${versions.createdAt} DESC, ${versions.id} DESC`);
  const deps =
    vs.length === 0
      ? []
      : await db
          .select({ versionId: deploymentVersions.versionId, app: deployments.app, deploymentId: deployments.deploymentId, status: deployments.status })
          .from(deploymentVersions)
          .innerJoin(deployments, eq(deployments.id, deploymentVersions.deploymentId))
          .where(
            inArray(
              deploymentVersions.versionId,
              vs.map((v) => v.id),
            ),
          )
          .orderBy(asc(deployments.app), asc(deployments.deploymentId));
  return {
    schema,
    name,
    overloads: procs.map((p) => ({
      ...p,
      versions: vs
        .filter((v) => v.procedureId === p.id)
        .map((v) => ({ ...v, deployments: deps.filter((d) => d.versionId === v.id).map(({ versionId: _, ...d }) => d) })),
    })),
  };
}
