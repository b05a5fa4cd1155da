import { sql } from 'drizzle-orm';
import { quoteIdent } from '../compile/parser';
import type { Tx } from '../db/client';
import type { Version } from '../db/schema';
import { ProcverError } from '../errors';
import type { DropSnapshot } from './apply';
import { signature } from './routine';
import { dropTripwire } from './tripwire';

async function signatureOf(tx: Tx, schema: string, name: string): Promise<{ oid: number; sig: string }> {
  const fn = await signature(tx, schema, name);
  if (!fn) throw new ProcverError('conflict', `expected exactly one function ${schema}.${name} in the database`);
  return fn;
}

/** Renames a quarantined version back, its tripwire gone: same OID, grants and dependencies, instantly. */
export async function unquarantine(tx: Tx, v: Version): Promise<number> {
  await dropTripwire(tx, v.schema, v.physicalName);
  const fn = await signatureOf(tx, v.schema, v.quarantineName!);
  await tx.execute(sql.raw(`ALTER ROUTINE ${fn.sig} RENAME TO ${quoteIdent(v.physicalName)}`));
  return fn.oid;
}

/** Runs a statement that PostgreSQL's format() builds, so every identifier and literal is quoted by the server. */
async function formatted(tx: Tx, template: string, ...args: (string | null)[]): Promise<void> {
  const params = args.map((a) => sql`${a}::text`);
  const r = await tx.execute<{ stmt: string }>(
    params.length > 0 ? sql`SELECT format(${template}::text, ${sql.join(params, sql`, `)}) AS stmt` : sql`SELECT format(${template}::text) AS stmt`,
  );
  await tx.execute(sql.raw(r.rows[0]!.stmt));
}

/**
 * Re-creates a dropped version exactly: definition, name, owner, grants (replayed as their
 * grantors, after removing what PostgreSQL adds to a new function), comment. Verified before commit.
 */
export async function recreateDropped(tx: Tx, v: Version): Promise<number> {
  const snap = v.dropSnapshot as DropSnapshot | null;
  if (!snap) throw new ProcverError('conflict', `${v.schema}.${v.physicalName} has no stored definition to re-create it from`);
  await tx.execute(sql.raw(snap.definition));
  const created = await signatureOf(tx, v.schema, v.quarantineName ?? v.physicalName);
  const def = await tx.execute<{ d: string }>(sql`SELECT pg_get_functiondef(${created.oid}::oid) AS d`);
  if (def.rows[0]!.d !== snap.definition) throw new ProcverError('conflict', 're-created definition differs from the stored one; nothing was restored');
  if (v.quarantineName) await tx.execute(sql.raw(`ALTER ROUTINE ${created.sig} RENAME TO ${quoteIdent(v.physicalName)}`));
  const fn = await signatureOf(tx, v.schema, v.physicalName);
  await formatted(tx, `ALTER ROUTINE ${fn.sig} OWNER TO %I`, snap.owner);

  if (snap.acl !== null) {
    // A new function gets EXECUTE for PUBLIC and any default privileges: start from nothing.
    const current = await tx.execute<{ grantee: string | null }>(sql`
      SELECT DISTINCT CASE WHEN a.grantee = 0 THEN NULL ELSE pg_get_userbyid(a.grantee) END AS grantee
      FROM pg_proc p, aclexplode(p.proacl) a WHERE p.oid = ${fn.oid}::oid AND a.grantee <> p.proowner`);
    for (const c of current.rows) {
      if (c.grantee === null) await tx.execute(sql.raw(`REVOKE ALL ON ROUTINE ${fn.sig} FROM PUBLIC CASCADE`));
      else await formatted(tx, `REVOKE ALL ON ROUTINE ${fn.sig} FROM %I CASCADE`, c.grantee);
    }
    await tx.execute(sql.raw(`REVOKE ALL ON ROUTINE ${fn.sig} FROM PUBLIC CASCADE`));
    // Grants by the owner first, so that grantees holding GRANT OPTION can then grant as themselves.
    const ordered = [...snap.grants].sort((a, b) => Number(b.grantor === snap.owner) - Number(a.grantor === snap.owner));
    for (const g of ordered) {
      if (g.grantee === snap.owner && g.grantor === snap.owner) continue; // the owner's implicit rights
      await formatted(tx, 'SET LOCAL ROLE %I', g.grantor);
      const to = g.grantee === null ? 'PUBLIC' : '%I';
      await formatted(tx, `GRANT ${g.privilege} ON ROUTINE ${fn.sig} TO ${to}${g.grantable ? ' WITH GRANT OPTION' : ''}`, ...(g.grantee === null ? [] : [g.grantee]));
      await tx.execute(sql`RESET ROLE`);
    }
    const acl = await tx.execute<{ acl: string | null }>(sql`SELECT proacl::text AS acl FROM pg_proc WHERE oid = ${fn.oid}::oid`);
    if (acl.rows[0]!.acl !== snap.acl) {
      throw new ProcverError('conflict', `re-created privileges ${acl.rows[0]!.acl} differ from the original ${snap.acl}; nothing was restored`);
    }
  }
  if (snap.comment !== null) await formatted(tx, `COMMENT ON ROUTINE ${fn.sig} IS %L`, snap.comment);
  return fn.oid;
}
