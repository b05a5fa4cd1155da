import { and, asc, eq, inArray, sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import type { Db } from './db/client';
import { deployments, deploymentVersions, procedures, versions, type DeploymentStatus, type Procedure, type Version } from './db/schema';
import { decodeCursor, encodeCursor } from './cursor';
import { procedureCallsInWindow, type UsageWindow } from './usage';
import { describeEvidence, readConfiguredInstances, uncountedEvents } from './usage/evidence';
import type { InstanceTarget } from './usage/readInstance';

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
  /** live, pending and previous (rollback) deployments referencing any of its versions; archived ones are history */
  deployments: number;
  /** calls counted in the window over every instance */
  calls: number;
  /** PostgreSQL does not count some version's calls (inlined, or track_functions): the total is a lower bound */
  uncounted: boolean;
  /** why, in the evidence module's words (empty when every call is counted) */
  uncountedWhy: string[];
}

export interface ListProceduresOptions {
  q?: string;
  sort?: ProcedureSort;
  dir?: 'asc' | 'desc';
  /** a cursor from a previous page's `next` (rows after it) or `previous` (rows before it) */
  after?: string;
  before?: string;
  pageSize?: number;
  window?: UsageWindow;
  /** the configured instances (lib/config.ts usageTargets); null: every instance the registry knows */
  targets?: InstanceTarget[] | null;
}

export interface ProcedurePage {
  rows: ProcedureRow[];
  /** procedures matching the search */
  total: number;
  /** cursors for the neighbouring pages, null at either end */
  next: string | null;
  previous: string | null;
}

function likePattern(q: string): string {
  return `%${q.replaceAll('\\', '\\\\').replaceAll('%', '\\%').replaceAll('_', '\\_')}%`;
}

/** A page boundary: the sort key and identity of the row at the edge. */
const cursorSchema = z.object({ k: z.union([z.number(), z.string()]).nullable(), s: z.string(), n: z.string(), a: z.string() });

/**
 * The sort key per procedure, as a subquery of (procedure_id, k). Name needs none (the identity is
 * the key, served by the procedures_identity index); the others aggregate over every procedure,
 * from the narrowest source there is: per-procedure call rollups, not per-version rows.
 */
function sortKey(sort: ProcedureSort, window: UsageWindow): SQL | null {
  switch (sort) {
    case 'name':
      return null;
    case 'calls':
      return sql`(SELECT procedure_id, sum(calls)::float8 AS k FROM ${procedureCallsInWindow(window)} c GROUP BY procedure_id)`;
    case 'live':
      return sql`(SELECT procedure_id, count(*)::float8 AS k FROM procver.versions WHERE status = 'live' GROUP BY procedure_id)`;
    case 'latest':
      return sql`(SELECT procedure_id, extract(epoch FROM max(created_at))::float8 AS k FROM procver.versions GROUP BY procedure_id)`;
    case 'deployments':
      return sql`(SELECT v.procedure_id, count(DISTINCT dv.deployment_id)::float8 AS k
                  FROM procver.deployments d
                  JOIN procver.deployment_versions dv ON dv.deployment_id = d.id
                  JOIN procver.versions v ON v.id = dv.version_id
                  WHERE d.status <> 'archived' GROUP BY v.procedure_id)`;
  }
}

/**
 * One page of procedures with version counts, calls in the window and deployments, searchable and
 * sorted. Keyset pagination: a page never reads the rows before it, and the per-page figures are
 * computed for the page's rows only.
 */
export async function listProcedures(db: Db, opts: ListProceduresOptions = {}): Promise<ProcedurePage> {
  const window = opts.window ?? '24h';
  const sort = opts.sort ?? 'name';
  const pageSize = Math.min(Math.max(opts.pageSize ?? 50, 1), 200);
  const where = opts.q ? sql`(p.name ILIKE ${likePattern(opts.q)} OR p.schema ILIKE ${likePattern(opts.q)})` : sql`true`;
  const backwards = opts.before !== undefined;
  const cursor = opts.before !== undefined ? decodeCursor(cursorSchema, opts.before) : opts.after !== undefined ? decodeCursor(cursorSchema, opts.after) : null;
  // Reading backwards flips the order; the rows are flipped back below.
  const descending = (opts.dir === 'desc') !== backwards;
  const dir = descending ? sql`DESC` : sql`ASC`;
  const key = sortKey(sort, window);
  const keyExpr = key ? sql`coalesce(k.k, 0)` : null;
  const tuple = keyExpr ? sql`(${keyExpr}, p.schema, p.name, p.args)` : sql`(p.schema, p.name, p.args)`;
  const after = cursor
    ? sql`AND ${tuple} ${descending ? sql`<` : sql`>`} (${keyExpr ? sql`${Number(cursor.k ?? 0)}::float8, ` : sql``}${cursor.s}::text, ${cursor.n}::text, ${cursor.a}::text)`
    : sql``;
  const order = keyExpr ? sql`${keyExpr} ${dir}, p.schema ${dir}, p.name ${dir}, p.args ${dir}` : sql`p.schema ${dir}, p.name ${dir}, p.args ${dir}`;

  const [pageRows, total, instances] = await Promise.all([
    db.execute<{
      id: number;
      schema: string;
      name: string;
      args: string;
      kind: string;
      k: number | null;
      live: number;
      retired: number;
      dropped: number;
      latest_physical_name: string | null;
      latest_created_at: string | null;
      deployments: number;
      calls: number;
      counting: { language: string; may_be_inlined: boolean }[];
    }>(sql`
      WITH page AS (
        SELECT p.id, p.schema, p.name, p.args, p.kind, ${keyExpr ?? sql`NULL::float8`} AS k
        FROM procver.procedures p ${key ? sql`LEFT JOIN ${key} k ON k.procedure_id = p.id` : sql``}
        WHERE ${where} ${after}
        ORDER BY ${order}
        LIMIT ${pageSize + 1})
      SELECT page.id, page.schema, page.name, page.args, page.kind::text AS kind, page.k, s.live, s.retired, s.dropped,
        s.latest_physical_name, s.latest_created_at, s.counting,
        coalesce((SELECT sum(c.calls) FROM ${procedureCallsInWindow(window)} c WHERE c.procedure_id = page.id), 0)::float8 AS calls,
        (SELECT count(DISTINCT dv.deployment_id) FROM procver.deployment_versions dv
         JOIN procver.versions v ON v.id = dv.version_id JOIN procver.deployments d ON d.id = dv.deployment_id
         WHERE v.procedure_id = page.id AND d.status <> 'archived')::int AS deployments
      FROM page
      CROSS JOIN LATERAL (
        SELECT count(*) FILTER (WHERE v.status = 'live')::int AS live,
          count(*) FILTER (WHERE v.status = 'retired')::int AS retired,
          count(*) FILTER (WHERE v.status = 'dropped')::int AS dropped,
          (array_agg(v.physical_name ORDER BY v.created_at DESC, v.id DESC))[1] AS latest_physical_name,
          max(v.created_at) AS latest_created_at,
          coalesce(jsonb_agg(DISTINCT jsonb_build_object('language', v.language, 'may_be_inlined', v.may_be_inlined)), '[]'::jsonb) AS counting
        FROM procver.versions v WHERE v.procedure_id = page.id) s
      ORDER BY page.k ${dir}, page.schema ${dir}, page.name ${dir}, page.args ${dir}`),
    db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM procver.procedures p WHERE ${where}`),
    db.execute<{ label: string; track_functions: string | null; first_collected_at: string | null; last_collected_at: string | null }>(
      sql`SELECT label, track_functions, first_collected_at::text, last_collected_at::text FROM procver.instances`,
    ),
  ]);
  // Whether calls are counted is the evidence module's decision, per distinct kind of version, on the
  // instances it asks (configured and read).
  const counting = readConfiguredInstances(instances.rows, opts.targets ?? null);
  const uncountedWhy = (kinds: { language: string; may_be_inlined: boolean }[]) => [
    ...new Set(kinds.flatMap((v) => uncountedEvents(v, counting)).map((e) => describeEvidence(e, new Date(), 'the window'))),
  ];
  const ordered = pageRows.rows;
  const more = ordered.length > pageSize;
  const rows = ordered.slice(0, pageSize);
  if (backwards) rows.reverse();
  const edge = (r: (typeof rows)[number] | undefined) => (r ? encodeCursor({ k: r.k === null ? null : Number(r.k), s: r.schema, n: r.name, a: r.args }) : null);
  const hasAfter = backwards ? true : more;
  const hasBefore = backwards ? more : cursor !== null;
  return {
    total: Number(total.rows[0]?.n ?? 0),
    next: hasAfter && rows.length > 0 ? edge(rows.at(-1)) : null,
    previous: hasBefore && rows.length > 0 ? edge(rows[0]) : null,
    rows: rows.map((x) => {
      const why = uncountedWhy(x.counting);
      return {
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
        uncounted: why.length > 0,
        uncountedWhy: why,
      };
    }),
  };
}

interface VersionWithDeployments extends Version {
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
      versions: vs.filter((v) => v.procedureId === p.id).map((v) => ({ ...v, deployments: deps.filter((d) => d.versionId === v.id).map(({ versionId: _, ...d }) => d) })),
    })),
  };
}
