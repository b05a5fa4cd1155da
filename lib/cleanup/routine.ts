import { sql } from 'drizzle-orm';
import type { Tx } from '../db/client';

/** The function named exactly `schema.name`: its OID and regprocedure text for ALTER/DROP. */
export async function signature(tx: Tx, schema: string, name: string): Promise<{ oid: number; sig: string } | null> {
  const r = await tx.execute<{ oid: number; sig: string }>(sql`
    SELECT p.oid::bigint AS oid, p.oid::regprocedure::text AS sig FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname = ${schema} AND p.proname = ${name}`);
  return r.rows.length === 1 ? { oid: Number(r.rows[0]!.oid), sig: r.rows[0]!.sig } : null;
}
