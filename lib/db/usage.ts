import { bigint, bigserial, boolean, date, doublePrecision, index, integer, jsonb, primaryKey, serial, text, timestamp, unique } from 'drizzle-orm/pg-core';
import { procver } from './procver';
import { procedures, versions } from './versions';

/**
 * A server whose function counters are read: the primary or a replica. Named by the address
 * procver reaches it at; the system identifier tells a rebuilt server from the one seen before.
 */
export const instances = procver.table(
  'instances',
  {
    id: serial('id').primaryKey(),
    /** host:port/database, without credentials */
    label: text('label').notNull(),
    systemIdentifier: text('system_identifier'),
    host: text('host').notNull(),
    port: integer('port').notNull(),
    role: text('role').notNull(),
    firstSeenAt: timestamp('first_seen_at', { withTimezone: true }).notNull().defaultNow(),
    lastAttemptAt: timestamp('last_attempt_at', { withTimezone: true }),
    /** the first successful reading: usage history for this instance starts here */
    firstCollectedAt: timestamp('first_collected_at', { withTimezone: true }),
    lastCollectedAt: timestamp('last_collected_at', { withTimezone: true }),
    lastError: text('last_error'),
    postmasterStartTime: timestamp('postmaster_start_time', { withTimezone: true }),
    statsReset: timestamp('stats_reset', { withTimezone: true }),
    trackFunctions: text('track_functions'),
  },
  (t) => [unique('instances_label').on(t.label)],
);

/** Which version on which instance: the key of every per-version usage table (fresh builders per table). */
const versionOnInstance = () => ({
  instanceId: integer('instance_id')
    .notNull()
    .references(() => instances.id),
  versionId: bigint('version_id', { mode: 'number' })
    .notNull()
    .references(() => versions.id),
});

/** What pg_stat_user_functions counts, as every usage table keeps it. */
const callCounts = () => ({
  calls: bigint('calls', { mode: 'number' }).notNull(),
  totalTime: doublePrecision('total_time').notNull(),
  selfTime: doublePrecision('self_time').notNull(),
});

/** One reading of pg_stat_user_functions for one version on one instance (raw; has a retention). */
export const usageSamples = procver.table(
  'usage_samples',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    ...versionOnInstance(),
    sampledAt: timestamp('sampled_at', { withTimezone: true }).notNull(),
    ...callCounts(),
    /** calls since the previous sample of the same instance, never negative */
    callsDelta: bigint('calls_delta', { mode: 'number' }),
  },
  (t) => [index('usage_samples_version_time').on(t.versionId, t.sampledAt), index('usage_samples_time').on(t.sampledAt)],
);

/** The last reading per instance and version: what the next delta is computed against. */
export const usageCounters = procver.table(
  'usage_counters',
  {
    ...versionOnInstance(),
    oid: bigint('oid', { mode: 'number' }).notNull(),
    ...callCounts(),
    sampledAt: timestamp('sampled_at', { withTimezone: true }).notNull(),
    /** when the counters first showed this version on this instance (a call was attempted) */
    firstSeenAt: timestamp('first_seen_at', { withTimezone: true }).notNull(),
    /** end of the last sampling interval in which its calls grew */
    lastCalledAt: timestamp('last_called_at', { withTimezone: true }),
  },
  // by version: "last called" over every instance, for a page of versions
  (t) => [primaryKey({ columns: [t.instanceId, t.versionId] }), index('usage_counters_version').on(t.versionId)],
);

/** Calls per hour per instance and version: what windows and sparklines read. */
export const usageHourly = procver.table(
  'usage_hourly',
  {
    ...versionOnInstance(),
    hour: timestamp('hour', { withTimezone: true }).notNull(),
    ...callCounts(),
  },
  (t) => [primaryKey({ columns: [t.versionId, t.hour, t.instanceId] }), index('usage_hourly_hour').on(t.hour)],
);

/**
 * Calls per UTC day per instance and version: what the 7d and 30d windows read. Kept when the
 * hourly rows age out (PROCVER_HOURLY_RETENTION_DAYS).
 */
export const usageDaily = procver.table(
  'usage_daily',
  {
    ...versionOnInstance(),
    day: date('day', { mode: 'string' }).notNull(),
    ...callCounts(),
  },
  (t) => [primaryKey({ columns: [t.versionId, t.day, t.instanceId] }), index('usage_daily_day').on(t.day)],
);

/**
 * Every call counted per version and instance since collection began: the Prometheus counters.
 * Kept by the collector in the statement that writes the rollups, so a scrape reads one row per
 * series instead of summing months of daily rows.
 */
export const usageTotals = procver.table(
  'usage_totals',
  {
    ...versionOnInstance(),
    ...callCounts(),
  },
  (t) => [primaryKey({ columns: [t.versionId, t.instanceId] })],
);

/**
 * Calls per hour per procedure over all its versions and instances: lets the procedures list sort
 * 10,000 procedures by calls without reading per-version rows.
 */
export const procedureCallsHourly = procver.table(
  'procedure_calls_hourly',
  {
    procedureId: integer('procedure_id')
      .notNull()
      .references(() => procedures.id),
    hour: timestamp('hour', { withTimezone: true }).notNull(),
    calls: bigint('calls', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.procedureId, t.hour] }), index('procedure_calls_hourly_hour').on(t.hour, t.procedureId, t.calls)],
);

/** Calls per UTC day per procedure over all its versions and instances. */
export const procedureCallsDaily = procver.table(
  'procedure_calls_daily',
  {
    procedureId: integer('procedure_id')
      .notNull()
      .references(() => procedures.id),
    day: date('day', { mode: 'string' }).notNull(),
    calls: bigint('calls', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.procedureId, t.day] }), index('procedure_calls_daily_day').on(t.day, t.procedureId, t.calls)],
);

/**
 * Things that make counts uncertain: counter resets, restarts, re-created functions, and gaps
 * (an instance that could not be read). Unknown is never zero: readers must take these into account.
 */
export const usageEvents = procver.table(
  'usage_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    instanceId: integer('instance_id')
      .notNull()
      .references(() => instances.id),
    /** null: the event concerns every version on the instance */
    versionId: bigint('version_id', { mode: 'number' }).references(() => versions.id),
    kind: text('kind').notNull(),
    /** the period the event makes uncertain */
    fromAt: timestamp('from_at', { withTimezone: true }).notNull(),
    toAt: timestamp('to_at', { withTimezone: true }).notNull(),
    detail: jsonb('detail'),
    resolved: boolean('resolved').notNull().default(false),
  },
  (t) => [index('usage_events_instance_time').on(t.instanceId, t.toAt), index('usage_events_version').on(t.versionId)],
);

/**
 * Which deployments are actually connected, from pg_stat_activity sessions whose application_name
 * is `<app>@<deployment-id>`: a hint shown next to the registered status, never a guarantee.
 */
export const deploymentSightings = procver.table(
  'deployment_sightings',
  {
    instanceId: integer('instance_id')
      .notNull()
      .references(() => instances.id),
    app: text('app').notNull(),
    deploymentId: text('deployment_id').notNull(),
    connections: integer('connections').notNull(),
    lastSeenAt: timestamp('last_seen_at', { withTimezone: true }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.app, t.deploymentId, t.instanceId] })],
);

/**
 * When each replica had applied a quarantine's rename, on that replica's clock: the first reading
 * whose replay position (pg_last_wal_replay_lsn()) had reached the quarantine's WAL position
 * (versions.quarantine_barrier_lsn), dated by the replica's clock_timestamp() read after it (so no
 * earlier than the real moment). A transaction on that replica that started before it may have
 * resolved the old name to the version itself. Not a change of state (no audit entry): cleared
 * with the quarantine's barrier.
 */
export const replicaBarriers = procver.table(
  'replica_barriers',
  {
    ...versionOnInstance(),
    replayedAt: timestamp('replayed_at', { withTimezone: true }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.versionId, t.instanceId] })],
);
