import { sql } from 'drizzle-orm';
import type { Db, Tx } from './db/client';
import type { VersionStatus } from './db/schema';

/**
 * Drift: a managed version (live, retired or quarantined; not dropped) whose function in the
 * database is no longer the code procver created under its hashed name, because someone ran
 * CREATE OR REPLACE or ALTER FUNCTION on it, or created an overload with the same name.
 *
 * The comparison is `procver.code_fingerprint(oid)` (drizzle/0008: every pg_proc property that is
 * code, deparsed with a pinned search_path, and nothing that is not: name, owner, grants, comment,
 * OID) against the fingerprint recorded when procver created or re-created the function. Hashing
 * pg_proc, rather than comparing the registry's source text with pg_get_functiondef, cannot see
 * drift where PostgreSQL merely prints a definition differently from how it was written.
 */
export interface DriftInfo {
  versionId: number;
  schema: string;
  physicalName: string;
  /** the name the function has in the database now: its quarantine name while quarantined */
  currentName: string;
  status: VersionStatus;
  quarantined: boolean;
  /** 'changed': other code under the name; 'overloaded': several functions carry the name */
  kind: 'changed' | 'overloaded';
}

/**
 * Every drifted version (or only those among `versionIds`), keyed by version id. One set-based
 * query; versions without a recorded fingerprint have no baseline and are never reported.
 */
export async function findDrift(db: Db | Tx, opts: { versionIds?: number[] } = {}): Promise<Map<number, DriftInfo>> {
  if (opts.versionIds && opts.versionIds.length === 0) return new Map();
  const r = await db.execute<{
    id: number;
    schema: string;
    physical_name: string;
    current_name: string;
    status: VersionStatus;
    quarantined: boolean;
    functions: number;
  }>(sql`
    SELECT v.id, v.schema, v.physical_name, coalesce(v.quarantine_name, v.physical_name) AS current_name,
      v.status::text AS status, v.quarantine_name IS NOT NULL AS quarantined, count(*)::int AS functions
    FROM procver.versions v
    JOIN pg_namespace n ON n.nspname = v.schema
    JOIN pg_proc p ON p.pronamespace = n.oid AND p.proname = coalesce(v.quarantine_name, v.physical_name)
    WHERE v.status <> 'dropped' AND v.code_fingerprint IS NOT NULL
      ${opts.versionIds ? sql`AND v.id = ANY(${sql.param(opts.versionIds)}::bigint[])` : sql``}
    GROUP BY v.id
    -- Any change to a pg_proc row (CREATE OR REPLACE, ALTER, GRANT, RENAME) gives it a new xmin:
    -- an unchanged xmin is unchanged code, and only moved rows are fingerprinted again. (xids wrap
    -- after 2^32 transactions; a change landing on the very xid recorded would go unseen.)
    HAVING count(*) > 1 OR bool_or(CASE WHEN p.xmin::text = v.code_xmin THEN false ELSE procver.code_fingerprint(p.oid) <> v.code_fingerprint END)`);
  return new Map(
    r.rows.map((x) => [
      Number(x.id),
      {
        versionId: Number(x.id),
        schema: x.schema,
        physicalName: x.physical_name,
        currentName: x.current_name,
        status: x.status,
        quarantined: x.quarantined,
        kind: x.functions > 1 ? 'overloaded' : 'changed',
      },
    ]),
  );
}

/** What is wrong with a drifted version, in words (without its name). */
export function driftProblem(d: DriftInfo): string {
  return d.kind === 'overloaded'
    ? 'several functions in the database carry its name'
    : 'its code in the database is not what procver created (CREATE OR REPLACE or ALTER was run on it)';
}

/** One line for people: which version drifted, how, and what that means. */
export function describeDrift(d: DriftInfo): string {
  const where = d.quarantined ? `${d.schema}.${d.currentName} (quarantined ${d.physicalName})` : `${d.schema}.${d.physicalName}`;
  return `${where}: ${driftProblem(d)}; callers run that code, not the registry's source`;
}

/** The definitions now in the database under a drifted version's name: what callers really run. */
export async function driftedDefinitions(db: Db | Tx, d: DriftInfo): Promise<string[]> {
  const r = await db.execute<{ def: string }>(sql`
    SELECT pg_get_functiondef(p.oid) AS def FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname = ${d.schema} AND p.proname = ${d.currentName} ORDER BY p.oid`);
  return r.rows.map((x) => x.def);
}

/**
 * What to record for a function procver just created or re-created (spread into the version's
 * update): its fingerprint, and the xmin of its pg_proc row, which lets findDrift skip the
 * fingerprint of every row that has not changed since.
 */
export function recordCode(oid: number) {
  return {
    codeFingerprint: sql<string>`procver.code_fingerprint(${oid}::oid)`,
    codeXmin: sql<string>`(SELECT xmin::text FROM pg_proc WHERE oid = ${oid}::oid)`,
  };
}
