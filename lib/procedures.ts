import { asc, eq, sql } from 'drizzle-orm';
import type { Db } from './db/client';
import { procedures, versions } from './db/schema';

export interface ProcedureOverview {
  id: number;
  schema: string;
  name: string;
  args: string;
  kind: string;
  live: number;
  retired: number;
  dropped: number;
  latestPhysicalName: string | null;
  deployments: number;
  /** calls counted in the last 24 hours over every instance (see lib/usage.ts for what is unknown) */
  calls24h: number;
  /** some version may be inlined by PostgreSQL: its calls are not counted, so the total is unknown */
  uncounted: boolean;
}

/** Every procedure with its version counts and how many deployments reference any version. */
export async function listProcedures(db: Db): Promise<ProcedureOverview[]> {
  return db
    .select({
      id: procedures.id,
      schema: procedures.schema,
      name: procedures.name,
      args: procedures.args,
      kind: procedures.kind,
      live: sql<number>`count(*) FILTER (WHERE ${versions.status} = 'live')::int`,
      retired: sql<number>`count(*) FILTER (WHERE ${versions.status} = 'retired')::int`,
      dropped: sql<number>`count(*) FILTER (WHERE ${versions.status} = 'dropped')::int`,
      latestPhysicalName: sql<string | null>`(array_agg(${versions.physicalName} ORDER BY ${versions.id} DESC))[1]`,
      deployments: sql<number>`(SELECT count(DISTINCT dv.deployment_id)::int FROM procver.deployment_versions dv
        JOIN procver.versions v2 ON v2.id = dv.version_id WHERE v2.procedure_id = ${procedures.id})`,
      uncounted: sql<boolean>`coalesce(bool_or(${versions.mayBeInlined}), false)`,
      calls24h: sql<number>`(SELECT coalesce(sum(h.calls), 0)::float8 FROM procver.usage_hourly h
        JOIN procver.versions v3 ON v3.id = h.version_id
        WHERE v3.procedure_id = ${procedures.id} AND h.hour >= date_trunc('hour', now()) - interval '23 hours')`,
    })
    .from(procedures)
    .leftJoin(versions, eq(versions.procedureId, procedures.id))
    .groupBy(procedures.id)
    .orderBy(asc(procedures.schema), asc(procedures.name), asc(procedures.args));
}
