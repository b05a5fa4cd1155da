import { sql, type SQL } from 'drizzle-orm';
import type { Tx } from '../db/client';
import type { Version } from '../db/schema';
import { ProcverError } from '../errors';
import { quoteIdent } from '../identifiers';
import { signature, type DropSnapshot, type SnapshotGrant } from './snapshot';
import { dropTripwire } from './tripwire';
import { pgReason } from '../db/pgError';

/** How a version came back: renamed out of quarantine, re-created from cleanup's snapshot, or from the registry's source. */
export type RestoreHow = 'unquarantined' | 'recreated' | 'source';

/**
 * Runs one statement of a restore. A PostgreSQL error becomes a ProcverError that says which step
 * failed and why (the transaction rolls back, so nothing is half restored): a restore either works
 * or says exactly why not, never an unexpected error.
 */
async function run(tx: Tx, what: string, query: SQL): Promise<void> {
  try {
    await tx.execute(query);
  } catch (e) {
    if (e instanceof ProcverError) throw e;
    throw new ProcverError('conflict', `${what}: ${pgReason(e)}; nothing was restored`);
  }
}

/** A statement that PostgreSQL's format() builds, so every identifier and literal is quoted by the server. */
async function runFormatted(tx: Tx, what: string, template: string, ...args: string[]): Promise<void> {
  const params = args.map((a) => sql`${a}::text`);
  const r = await tx.execute<{ stmt: string }>(
    params.length > 0 ? sql`SELECT format(${template}::text, ${sql.join(params, sql`, `)}) AS stmt` : sql`SELECT format(${template}::text) AS stmt`,
  );
  await run(tx, what, sql.raw(r.rows[0]!.stmt));
}

function label(v: Version): string {
  return `${v.schema}.${v.physicalName}`;
}

/** Functions other than procver's own that already use one of these names: restoring would clash with them. */
async function refuseTakenNames(tx: Tx, v: Version, names: string[]): Promise<void> {
  const r = await tx.execute<{ sig: string }>(sql`
    SELECT p.oid::regprocedure::text AS sig FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname = ${v.schema} AND p.proname = ANY(${sql.param(names)}::text[])`);
  if (r.rows.length > 0) {
    throw new ProcverError(
      'conflict',
      `cannot restore ${label(v)}: ${r.rows.map((x) => x.sig).join(', ')} already exists in the database and procver did not create it there; drop or rename it first`,
    );
  }
}

/** Renames a quarantined version back, its tripwire gone: same OID, grants and dependencies, instantly. */
export async function unquarantine(tx: Tx, v: Version): Promise<{ oid: number; how: RestoreHow }> {
  await dropTripwire(tx, v.schema, v.physicalName);
  const fn = await signature(tx, v.schema, v.quarantineName!);
  // Someone dropped the quarantined function by hand: its code is still in the registry.
  if (!fn) return recreateFromSource(tx, v);
  await refuseTakenNames(tx, v, [v.physicalName]);
  await run(tx, `renaming ${v.schema}.${v.quarantineName} back to ${v.physicalName} failed`, sql.raw(`ALTER ROUTINE ${fn.sig} RENAME TO ${quoteIdent(v.physicalName)}`));
  return { oid: fn.oid, how: 'unquarantined' };
}

/**
 * Creates the version from the registry's source (the CREATE statement procver ran): for a version
 * with no snapshot to restore from. Owner and grants are the current user's defaults.
 */
export async function recreateFromSource(tx: Tx, v: Version): Promise<{ oid: number; how: RestoreHow }> {
  await refuseTakenNames(tx, v, [v.physicalName]);
  await run(tx, `re-creating ${label(v)} from its source failed`, sql.raw(v.source));
  const fn = await signature(tx, v.schema, v.physicalName);
  if (!fn) throw new ProcverError('conflict', `after re-creating ${label(v)} from its source it is not in the database under that name; nothing was restored`);
  return { oid: fn.oid, how: 'source' };
}

/**
 * Grants in an order PostgreSQL accepts when each is replayed as its grantor: the owner's first,
 * then those of roles whose grant option has been replayed already (a grant chain).
 */
function replayOrder(grants: SnapshotGrant[], owner: string, v: Version): SnapshotGrant[] {
  const mayGrant = new Set([owner]);
  const left = [...grants];
  const ordered: SnapshotGrant[] = [];
  while (left.length > 0) {
    const i = left.findIndex((g) => mayGrant.has(g.grantor));
    if (i < 0) {
      throw new ProcverError(
        'conflict',
        `cannot restore ${label(v)}: its stored grants by ${[...new Set(left.map((g) => g.grantor))].join(', ')} come from no grant option procver can replay; nothing was restored`,
      );
    }
    const [g] = left.splice(i, 1);
    ordered.push(g!);
    if (g!.grantable && g!.grantee !== null) mayGrant.add(g!.grantee);
  }
  return ordered;
}

/**
 * Re-creates a dropped version exactly: definition, name, owner, grants (replayed as their
 * grantors, after removing what PostgreSQL adds to a new function), comment; each verified
 * (privileges compared as sets) before the transaction may commit.
 */
export async function recreateDropped(tx: Tx, v: Version): Promise<{ oid: number; how: RestoreHow }> {
  const snap = v.dropSnapshot as DropSnapshot | null;
  if (!snap) return recreateFromSource(tx, v);
  const name = label(v);

  const roles = [...new Set([snap.owner, ...snap.grants.flatMap((g) => [g.grantor, ...(g.grantee === null ? [] : [g.grantee])])])];
  const missing = await tx.execute<{ role: string }>(sql`
    SELECT r AS role FROM unnest(${sql.param(roles)}::text[]) r WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) ORDER BY 1`);
  if (missing.rows.length > 0) {
    throw new ProcverError(
      'conflict',
      `cannot restore ${name} exactly: role(s) ${missing.rows.map((r) => r.role).join(', ')} (its owner or in its grants) no longer exist; create them first; nothing was restored`,
    );
  }
  const createdAs = v.quarantineName ?? v.physicalName;
  await refuseTakenNames(tx, v, [...new Set([createdAs, v.physicalName])]);

  await run(tx, `re-creating ${name} failed`, sql.raw(snap.definition));
  const created = await signature(tx, v.schema, createdAs);
  if (!created) throw new ProcverError('conflict', `after re-creating ${name} it is not in the database as ${v.schema}.${createdAs}; nothing was restored`);
  const def = await tx.execute<{ d: string }>(sql`SELECT pg_get_functiondef(${created.oid}::oid) AS d`);
  if (def.rows[0]!.d !== snap.definition) throw new ProcverError('conflict', `re-created definition of ${name} differs from the stored one; nothing was restored`);
  if (v.quarantineName) await run(tx, `renaming ${name} back from quarantine failed`, sql.raw(`ALTER ROUTINE ${created.sig} RENAME TO ${quoteIdent(v.physicalName)}`));
  const fn = (await signature(tx, v.schema, v.physicalName))!;
  await runFormatted(tx, `giving ${name} back to its owner ${snap.owner} failed`, `ALTER ROUTINE ${fn.sig} OWNER TO %I`, snap.owner);
  await replayPrivileges(tx, v, fn, snap);
  if (snap.comment !== null) await runFormatted(tx, `restoring the comment of ${name} failed`, `COMMENT ON ROUTINE ${fn.sig} IS %L`, snap.comment);

  const check = await tx.execute<{ same_acl: boolean; acl: string | null; owner: string; comment: string | null }>(sql`
    SELECT (SELECT coalesce(array_agg(a::text ORDER BY a::text), '{}') FROM unnest(coalesce(p.proacl, acldefault('f', p.proowner))) a)
         = (SELECT coalesce(array_agg(a::text ORDER BY a::text), '{}') FROM unnest(coalesce(${snap.acl}::aclitem[], acldefault('f', p.proowner))) a) AS same_acl,
      p.proacl::text AS acl, pg_get_userbyid(p.proowner) AS owner, obj_description(p.oid, 'pg_proc') AS comment
    FROM pg_proc p WHERE p.oid = ${fn.oid}::oid`);
  const c = check.rows[0]!;
  if (c.owner !== snap.owner) throw new ProcverError('conflict', `re-created ${name} is owned by ${c.owner}, not ${snap.owner}; nothing was restored`);
  if (!c.same_acl) {
    throw new ProcverError(
      'conflict',
      `re-created privileges of ${name} ${c.acl ?? '(default)'} differ from the original ${snap.acl ?? '(default)'}; nothing was restored`,
    );
  }
  if (c.comment !== snap.comment) throw new ProcverError('conflict', `re-created comment of ${name} differs from the original; nothing was restored`);
  return { oid: fn.oid, how: 'recreated' };
}

/**
 * Makes the re-created function's privileges those of the snapshot: first removes what
 * PostgreSQL gave the new function (PUBLIC EXECUTE, default privileges), then replays each stored
 * grant as its grantor. Default privileges (a NULL ACL) stay NULL when nothing was added.
 */
async function replayPrivileges(tx: Tx, v: Version, fn: { oid: number; sig: string }, snap: DropSnapshot): Promise<void> {
  const now = await tx.execute<{ acl: string | null }>(sql`SELECT proacl::text AS acl FROM pg_proc WHERE oid = ${fn.oid}::oid`);
  if (snap.acl === null && now.rows[0]!.acl === null) return;
  // A NULL ACL means the owner's rights and EXECUTE for PUBLIC, granted by the owner.
  const grants: SnapshotGrant[] =
    snap.acl === null ? [null, snap.owner].map((grantee) => ({ grantor: snap.owner, grantee, privilege: 'EXECUTE', grantable: false })) : snap.grants;
  const current = await tx.execute<{ grantee: string | null }>(sql`
    SELECT DISTINCT CASE WHEN a.grantee = 0 THEN NULL ELSE pg_get_userbyid(a.grantee) END AS grantee
    FROM pg_proc p, aclexplode(p.proacl) a WHERE p.oid = ${fn.oid}::oid AND a.grantee <> p.proowner`);
  for (const c of current.rows) {
    if (c.grantee !== null)
      await runFormatted(tx, `removing the new function's grant to ${c.grantee} failed`, `REVOKE ALL ON ROUTINE ${fn.sig} FROM %I CASCADE`, c.grantee);
  }
  await run(tx, `removing PUBLIC's default EXECUTE failed`, sql.raw(`REVOKE ALL ON ROUTINE ${fn.sig} FROM PUBLIC CASCADE`));
  for (const g of replayOrder(grants, snap.owner, v)) {
    if (g.grantee === snap.owner && g.grantor === snap.owner) continue; // the owner's implicit rights
    const to = g.grantee === null ? 'PUBLIC' : quoteIdent(g.grantee);
    const what = `replaying GRANT ${g.privilege} TO ${to} as ${g.grantor} failed`;
    await runFormatted(tx, what, 'SET LOCAL ROLE %I', g.grantor);
    await run(tx, what, sql.raw(`GRANT ${g.privilege} ON ROUTINE ${fn.sig} TO ${to}${g.grantable ? ' WITH GRANT OPTION' : ''}`));
    await tx.execute(sql`RESET ROLE`);
  }
  // An owner who had revoked their own EXECUTE: the new function gave it back.
  if (!grants.some((g) => g.grantee === snap.owner && g.grantor === snap.owner)) {
    await runFormatted(tx, `removing the owner's own EXECUTE failed`, `REVOKE ALL ON ROUTINE ${fn.sig} FROM %I`, snap.owner);
  }
}
