import { desc } from 'drizzle-orm';
import type { Db, Tx } from './db/client';
import { auditLog, type AuditEntry } from './db/schema';

export interface AuditInput {
  actor: string;
  action: string;
  targetType: 'push' | 'version' | 'deployment' | 'procedure' | 'registry';
  target: string;
  reason?: string | null;
  before?: unknown;
  after?: unknown;
}

/** Call inside the transaction that makes the change, so both commit or neither does. */
export async function writeAudit(tx: Tx, entry: AuditInput): Promise<void> {
  await tx.insert(auditLog).values({
    actor: entry.actor,
    action: entry.action,
    targetType: entry.targetType,
    target: entry.target,
    reason: entry.reason ?? null,
    before: entry.before ?? null,
    after: entry.after ?? null,
  });
}

export async function recentAudit(db: Db, limit = 20): Promise<AuditEntry[]> {
  return db.select().from(auditLog).orderBy(desc(auditLog.id)).limit(limit);
}
