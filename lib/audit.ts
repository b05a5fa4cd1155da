import { and, desc, eq, gte, ilike, lt, lte, type SQL } from 'drizzle-orm';
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

export interface AuditFilter {
  actor?: string;
  action?: string;
  /** text the target contains, e.g. a procedure name */
  target?: string;
  from?: Date;
  to?: Date;
  /** keyset cursor: entries older than this id */
  before?: number;
  limit?: number;
}

function escapeLike(s: string): string {
  return s.replaceAll('\\', '\\\\').replaceAll('%', '\\%').replaceAll('_', '\\_');
}

function conditions(f: AuditFilter): SQL | undefined {
  const c: SQL[] = [];
  if (f.actor) c.push(eq(auditLog.actor, f.actor));
  if (f.action) c.push(eq(auditLog.action, f.action));
  if (f.target) c.push(ilike(auditLog.target, `%${escapeLike(f.target)}%`));
  if (f.from) c.push(gte(auditLog.at, f.from));
  if (f.to) c.push(lte(auditLog.at, f.to));
  if (f.before) c.push(lt(auditLog.id, f.before));
  return c.length > 0 ? and(...c) : undefined;
}

/** Newest first, one page at a time (keyset on id); `next` is the cursor for the following page. */
export async function searchAudit(db: Db, f: AuditFilter = {}): Promise<{ entries: AuditEntry[]; next: number | null }> {
  const limit = Math.min(Math.max(f.limit ?? 50, 1), 500);
  const rows = await db
    .select()
    .from(auditLog)
    .where(conditions(f))
    .orderBy(desc(auditLog.id))
    .limit(limit + 1);
  const entries = rows.slice(0, limit);
  return { entries, next: rows.length > limit ? entries[entries.length - 1]!.id : null };
}

export async function recentAudit(db: Db, limit = 20): Promise<AuditEntry[]> {
  return (await searchAudit(db, { limit })).entries;
}

export async function auditActions(db: Db): Promise<string[]> {
  const rows = await db.selectDistinct({ action: auditLog.action }).from(auditLog).orderBy(auditLog.action);
  return rows.map((r) => r.action);
}

function csvCell(v: unknown): string {
  const s = v === null || v === undefined ? '' : typeof v === 'string' ? v : v instanceof Date ? v.toISOString() : JSON.stringify(v);
  // Quote every cell; a leading = + - @ is prefixed so spreadsheets do not run it as a formula.
  const safe = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
  return `"${safe.replaceAll('"', '""')}"`;
}

/** Every entry matching the filter as CSV (RFC 4180), newest first. */
export async function auditCsv(db: Db, f: AuditFilter): Promise<string> {
  const lines = ['id,at,actor,action,target_type,target,reason,before,after'];
  let before: number | undefined;
  for (;;) {
    const page = await searchAudit(db, { ...f, before, limit: 500 });
    for (const e of page.entries) {
      lines.push([e.id, e.at, e.actor, e.action, e.targetType, e.target, e.reason, e.before, e.after].map(csvCell).join(','));
    }
    if (page.next === null) break;
    before = page.next;
  }
  return `${lines.join('\r\n')}\r\n`;
}
