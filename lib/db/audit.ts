import { bigserial, index, jsonb, text, timestamp } from 'drizzle-orm/pg-core';
import { procver } from './procver';

/** Append-only: every state change writes one row in the same transaction. */
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
  },
  (t) => [index('audit_log_at').on(t.at), index('audit_log_target').on(t.targetType, t.target)],
);

export type AuditEntry = typeof auditLog.$inferSelect;
