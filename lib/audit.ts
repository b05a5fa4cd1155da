import { and, desc, eq, gte, ilike, lt, lte, sql, type SQL } from 'drizzle-orm';
import type { Db, Tx } from './db/client';
import { auditLog, type AuditEntry } from './db/schema';

export interface AuditInput {
  actor: string;
  action: string;
  targetType: 'push' | 'version' | 'deployment' | 'procedure' | 'binding' | 'registry';
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

/** The distinct actions in the log, by skipping through the action index (a few probes per action). */
export async function auditActions(db: Db): Promise<string[]> {
  const r = await db.execute<{ action: string }>(sql`
    WITH RECURSIVE a AS (
      (SELECT action FROM procver.audit_log ORDER BY action LIMIT 1)
      UNION ALL
      SELECT (SELECT l.action FROM procver.audit_log l WHERE l.action > a.action ORDER BY l.action LIMIT 1) FROM a WHERE a.action IS NOT NULL)
    SELECT action FROM a WHERE action IS NOT NULL`);
  return r.rows.map((x) => x.action);
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

export interface ChainVerdict {
  ok: boolean;
  entries: number;
  /** the first entry whose link does not hold, and why */
  brokenAt: { seq: number; id: number; problem: string } | null;
}

/**
 * Walks the hash chain in order and reports the first broken link: an entry whose content no
 * longer matches its hash, whose predecessor's hash differs from the one it recorded, or a
 * missing position (a deleted entry).
 */
export async function verifyAuditChain(db: Db): Promise<ChainVerdict> {
  const r = await db.execute<{ seq: number | null; id: number; problem: string | null; n: number }>(sql`
    WITH chain AS (
      SELECT a.seq, a.id, a.hash, a.prev_hash, procver.audit_entry_hash(a.prev_hash, a) AS recomputed,
             lag(a.hash) OVER (ORDER BY a.seq) AS previous_hash, row_number() OVER (ORDER BY a.seq) AS position
      FROM procver.audit_log a)
    SELECT seq, id, n, CASE
        WHEN seq IS NULL THEN 'entry has no place in the chain'
        WHEN seq <> position THEN 'entries before it are missing (seq ' || position || ' expected)'
        WHEN prev_hash IS DISTINCT FROM previous_hash THEN 'it does not link to the entry before it'
        WHEN hash IS DISTINCT FROM recomputed THEN 'its content does not match its hash (changed after it was written)'
      END AS problem
    FROM chain, (SELECT count(*)::int AS n FROM procver.audit_log) total
    ORDER BY (CASE
        WHEN seq IS NULL OR seq <> position OR prev_hash IS DISTINCT FROM previous_hash OR hash IS DISTINCT FROM recomputed THEN 0 ELSE 1 END),
      seq NULLS FIRST
    LIMIT 1`);
  const first = r.rows[0];
  if (!first) return { ok: true, entries: 0, brokenAt: null };
  if (!first.problem) return { ok: true, entries: Number(first.n), brokenAt: null };
  return { ok: false, entries: Number(first.n), brokenAt: { seq: Number(first.seq), id: Number(first.id), problem: first.problem } };
}
