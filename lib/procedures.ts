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
    })
    .from(procedures)
    .leftJoin(versions, eq(versions.procedureId, procedures.id))
    .groupBy(procedures.id)
    .orderBy(asc(procedures.schema), asc(procedures.name), asc(procedures.args));
}
