import { bigint, bigserial, index, jsonb, text, timestamp } from 'drizzle-orm/pg-core';
import { procver } from './procver';

/**
 * Append-only (a trigger refuses UPDATE, DELETE and TRUNCATE): every state change writes one row in
 * the same transaction. A trigger also chains each row to the previous one: `hash` is the sha256
 * of the previous hash and this row's content, in `seq` order (see drizzle/*_audit_integrity.sql).
 */
export const auditLog = procver.table(
  'audit_log',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
    actor: text('actor').notNull(),
    action: text('action').notNull(),
    targetType: text('target_type').notNull(),
    target: text('target').notNull(),
    reason: text('reason'),
    before: jsonb('before'),
    after: jsonb('after'),
    /** position in the hash chain, assigned by the trigger under a lock */
    seq: bigint('seq', { mode: 'number' }),
    prevHash: text('prev_hash'),
    hash: text('hash'),
  },
  (t) => [
    index('audit_log_at').on(t.at),
    index('audit_log_target').on(t.targetType, t.target),
    index('audit_log_seq').on(t.seq),
    // the action filter's choices are read by skipping through this index, not by scanning the log
    index('audit_log_action').on(t.action),
  ],
);

export type AuditEntry = typeof auditLog.$inferSelect;
