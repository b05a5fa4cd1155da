import { sql } from 'drizzle-orm';
import type { Tx } from './db/client';

/**
 * One transaction-scoped advisory lock taken by push, cleanup and deployment changes: a view
 * created in a concurrent transaction while a function is dropped leaves a broken dependency
 * (PostgreSQL 15–17), and two pushes must not interleave their checks and creates.
 */
const REGISTRY_LOCK = 0x70726f76; // 'prov'

export async function lockRegistry(tx: Tx): Promise<void> {
  await tx.execute(sql`SELECT pg_advisory_xact_lock(${REGISTRY_LOCK})`);
}
