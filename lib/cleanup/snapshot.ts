import { sql } from 'drizzle-orm';
import type { Tx } from '../db/client';
import { describeDrift, findDrift } from '../drift';
import { ProcverError } from '../errors';

/** What cleanup stores before a drop so that restore can re-create the version exactly. */
export interface DropSnapshot {
  /** pg_get_functiondef() while quarantined (so under the quarantine name) */
  definition: string;
  owner: string;
  /** proacl as text; null means PostgreSQL's default privileges */
  acl: string | null;
  grants: SnapshotGrant[];
  comment: string | null;
}

export interface SnapshotGrant {
  grantor: string;
  /** null: PUBLIC */
  grantee: string | null;
  privilege: string;
  grantable: boolean;
}

/**
 * The function named exactly `schema.name`: its OID and regprocedure text for ALTER/DROP; null
 * unless there is exactly one (overloads cannot be told apart by name). `any`: the first of several.
 */
export async function signature(tx: Tx, schema: string, name: string, opts: { any?: boolean } = {}): Promise<{ oid: number; sig: string } | null> {
  const r = await tx.execute<{ oid: number; sig: string }>(sql`
    SELECT p.oid::bigint AS oid, p.oid::regprocedure::text AS sig FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname = ${schema} AND p.proname = ${name} ORDER BY p.oid`);
  const first = r.rows[0];
  return first && (r.rows.length === 1 || opts.any) ? { oid: Number(first.oid), sig: first.sig } : null;
}

/**
 * Reads what re-creates version `versionId` (function `oid`) exactly. Refused for a drifted
 * version: its code in the database is not the version's, and storing it as the version's
 * definition would make a later restore bring back someone else's code under the hashed name.
 */
export async function takeDropSnapshot(tx: Tx, versionId: number, oid: number): Promise<DropSnapshot> {
  const drift = (await findDrift(tx, { versionIds: [versionId] })).get(versionId);
  if (drift) throw new ProcverError('conflict', `${describeDrift(drift)}; a drifted version is never dropped, since what would be stored to restore it is not its code`);
  const r = await tx.execute<{ definition: string; owner: string; acl: string | null; comment: string | null; grants: SnapshotGrant[] | null }>(sql`
    SELECT pg_get_functiondef(p.oid) AS definition, pg_get_userbyid(p.proowner) AS owner, p.proacl::text AS acl,
           obj_description(p.oid, 'pg_proc') AS comment,
           (SELECT json_agg(json_build_object('grantor', pg_get_userbyid(a.grantor),
                     'grantee', CASE WHEN a.grantee = 0 THEN NULL ELSE pg_get_userbyid(a.grantee) END,
                     'privilege', a.privilege_type, 'grantable', a.is_grantable))
            FROM aclexplode(p.proacl) a) AS grants
    FROM pg_proc p WHERE p.oid = ${oid}::oid`);
  const s = r.rows[0];
  if (!s) throw new ProcverError('conflict', `the function with OID ${oid} is no longer in the database`);
  return { definition: s.definition, owner: s.owner, acl: s.acl, grants: s.grants ?? [], comment: s.comment };
}
