import { bigint, bigserial, doublePrecision, index, integer, serial, text, timestamp, unique } from 'drizzle-orm/pg-core';
import { procver } from './procver';
import { versions } from './versions';

/** A server whose function counters are read: the primary or a replica. */
export const instances = procver.table(
  'instances',
  {
    id: serial('id').primaryKey(),
    systemIdentifier: text('system_identifier').notNull(),
    host: text('host').notNull(),
    port: integer('port').notNull(),
    role: text('role').notNull(),
    firstSeenAt: timestamp('first_seen_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [unique('instances_identity').on(t.systemIdentifier, t.host, t.port)],
);

/** One reading of pg_stat_user_functions for one version on one instance. */
export const usageSamples = procver.table(
  'usage_samples',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    instanceId: integer('instance_id')
      .notNull()
      .references(() => instances.id),
    versionId: bigint('version_id', { mode: 'number' })
      .notNull()
      .references(() => versions.id),
    sampledAt: timestamp('sampled_at', { withTimezone: true }).notNull(),
    calls: bigint('calls', { mode: 'number' }).notNull(),
    totalTime: doublePrecision('total_time').notNull(),
    selfTime: doublePrecision('self_time').notNull(),
    /** calls since the previous sample of the same instance, never negative */
    callsDelta: bigint('calls_delta', { mode: 'number' }),
  },
  (t) => [index('usage_samples_version_time').on(t.versionId, t.sampledAt)],
);
