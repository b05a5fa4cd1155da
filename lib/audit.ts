import { createHash } from 'node:crypto';
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

/** An entry as stored, in the text forms the chain hashes (the time as epoch text, JSON as stored). */
type StoredEntry = {
  seq: string | null;
  id: string;
  hash: string | null;
  prev_hash: string | null;
  epoch: string;
  actor: string;
  action: string;
  target_type: string;
  target: string;
  reason: string | null;
  before: string | null;
  after: string | null;
};

const jsonText = (s: string | null) => (s === null ? 'null' : JSON.stringify(s));

/**
 * The hash of one entry, computed here with Node's crypto exactly as the insert trigger's
 * `procver.audit_entry_hash` does: sha256 over the text of PostgreSQL's
 * `json_build_array(prev, seq, id, epoch, actor, action, target_type, target, reason, before, after)`
 * (elements joined by ", ", strings escaped as JSON, jsonb in its stored text form). Verification
 * never asks the database to hash: whoever can rewrite rows could also rewrite that function.
 */
export function auditEntryHash(prev: string | null, e: Omit<StoredEntry, 'hash' | 'prev_hash'>): string {
  const parts = [
    jsonText(prev),
    e.seq ?? 'null',
    e.id,
    jsonText(e.epoch),
    jsonText(e.actor),
    jsonText(e.action),
    jsonText(e.target_type),
    jsonText(e.target),
    jsonText(e.reason),
    e.before ?? 'null',
    e.after ?? 'null',
  ];
  return createHash('sha256')
    .update(`[${parts.join(', ')}]`, 'utf8')
    .digest('hex');
}

const VERIFY_PAGE = 5000;

/**
 * Walks the hash chain in order, recomputing each hash in the application, and reports the first
 * broken link: an entry whose content no longer matches its hash, whose predecessor's hash
 * differs from the one it recorded, or a missing position (a deleted entry).
 */
export async function verifyAuditChain(db: Db): Promise<ChainVerdict> {
  const total = Number((await db.execute<{ n: string }>(sql`SELECT count(*) AS n FROM procver.audit_log`)).rows[0]!.n);
  const unplaced = await db.execute<{ id: string }>(sql`SELECT id FROM procver.audit_log WHERE seq IS NULL ORDER BY id LIMIT 1`);
  if (unplaced.rows[0]) return { ok: false, entries: total, brokenAt: { seq: 0, id: Number(unplaced.rows[0].id), problem: 'entry has no place in the chain' } };
  let position = 0;
  let previousHash: string | null = null;
  for (;;) {
    const page = await db.execute<StoredEntry>(sql`
      SELECT seq::text, id::text, hash, prev_hash, extract(epoch FROM at)::text AS epoch, actor, action, target_type, target, reason,
             before::text AS before, after::text AS after
      FROM procver.audit_log a WHERE a.seq > ${position} ORDER BY a.seq LIMIT ${VERIFY_PAGE}`);
    for (const e of page.rows) {
      position++;
      const broken = (problem: string): ChainVerdict => ({ ok: false, entries: total, brokenAt: { seq: Number(e.seq), id: Number(e.id), problem } });
      if (Number(e.seq) !== position) return broken(`entries before it are missing (seq ${position} expected)`);
      if (e.prev_hash !== previousHash) return broken('it does not link to the entry before it');
      if (e.hash !== auditEntryHash(e.prev_hash, e)) return broken('its content does not match its hash (changed after it was written)');
      previousHash = e.hash;
    }
    if (page.rows.length < VERIFY_PAGE) break;
  }
  return { ok: true, entries: total, brokenAt: null };
}
