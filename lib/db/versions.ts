import { sql } from 'drizzle-orm';
import { bigint, bigserial, boolean, check, customType, index, integer, jsonb, serial, text, timestamp, unique } from 'drizzle-orm/pg-core';
import { procver } from './procver';

/** A WAL position (PostgreSQL's pg_lsn, `16/B374D848`), compared by the server. */
const pgLsn = customType<{ data: string; driverData: string }>({ dataType: () => 'pg_lsn' });

export const procedureKind = procver.enum('procedure_kind', ['function', 'procedure']);
export const versionStatus = procver.enum('version_status', ['live', 'retired', 'dropped']);

/**
 * A logical procedure. Identity is kept as text (schema, name, argument types), never as
 * regprocedure: pg_upgrade refuses tables with reg* columns.
 */
export const procedures = procver.table(
  'procedures',
  {
    id: serial('id').primaryKey(),
    schema: text('schema').notNull(),
    name: text('name').notNull(),
    args: text('args').notNull(),
    kind: procedureKind('kind').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [unique('procedures_identity').on(t.schema, t.name, t.args)],
);

export const versions = procver.table(
  'versions',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    procedureId: integer('procedure_id')
      .notNull()
      .references(() => procedures.id),
    hash: text('hash').notNull(),
    /** the procedure's schema, repeated so a physical name is unique per schema */
    schema: text('schema').notNull(),
    physicalName: text('physical_name').notNull(),
    language: text('language').notNull(),
    /** the CREATE statement exactly as it was executed */
    source: text('source').notNull(),
    normalized: text('normalized').notNull(),
    /** physical names of the managed versions this one calls */
    callees: text('callees').array().notNull().default(sql`'{}'::text[]`),
    /** PostgreSQL may inline its calls: its call counts are unknown, never zero */
    mayBeInlined: boolean('may_be_inlined').notNull().default(false),
    status: versionStatus('status').notNull().default('live'),
    /** the function's OID while it exists; changes if the version is re-created */
    oid: bigint('oid', { mode: 'number' }),
    pushedBy: text('pushed_by').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    statusChangedAt: timestamp('status_changed_at', { withTimezone: true }).notNull().defaultNow(),
    /** bumped on every status change: the optimistic-lock token for concurrent operators */
    revision: integer('revision').notNull().default(1),
    /** cleanup renamed the function to this name (same OID) and waits before dropping it */
    quarantineName: text('quarantine_name'),
    /**
     * when the quarantine's transaction began (its now()): the tripwire cannot be called before that
     * transaction commits, so the quarantine's evidence period starts here
     */
    quarantinedAt: timestamp('quarantined_at', { withTimezone: true }),
    /**
     * a moment after the quarantine committed (recorded right after it): a transaction that started
     * before it may have resolved the old name to the version itself, with calls PostgreSQL has not
     * published yet, so the drop waits until none is open. NULL until recorded (the drop waits).
     */
    quarantineBarrierAt: timestamp('quarantine_barrier_at', { withTimezone: true }),
    /**
     * the primary's WAL position read with the barrier (at or after the quarantine's commit record):
     * a replica has applied the rename once it has replayed this far (see replica_barriers)
     */
    quarantineBarrierLsn: pgLsn('quarantine_barrier_lsn'),
    /** what re-creates a dropped version exactly: definition, owner, ACL, comment */
    dropSnapshot: jsonb('drop_snapshot'),
    droppedAt: timestamp('dropped_at', { withTimezone: true }),
    /**
     * procver.code_fingerprint() of the function as procver created (or re-created) it: drift is a
     * function under this version's name whose fingerprint differs (see lib/drift.ts)
     */
    codeFingerprint: text('code_fingerprint'),
    /**
     * the xmin of the function's pg_proc row when the fingerprint was recorded: any change to the
     * row gives it a new xmin, so only functions whose xmin moved need fingerprinting again
     */
    codeXmin: text('code_xmin'),
  },
  (t) => [
    unique('versions_procedure_hash').on(t.procedureId, t.hash),
    unique('versions_physical_name').on(t.schema, t.physicalName),
    index('versions_status').on(t.status),
    // Narrow indexes the dashboard reads instead of the wide rows (source, definition): index-only
    // scans for "retired since" (id included: the overview joins retired ids to their counters),
    // "latest version" and a deployment's statuses and procedures.
    index('versions_status_changed').on(t.status, t.statusChangedAt, t.id),
    index('versions_procedure_created').on(t.procedureId, t.createdAt),
    index('versions_id_procedure_status').on(t.id, t.procedureId, t.status),
    // the Cleanup page's "dropped most recently" without sorting every dropped version
    index('versions_dropped_at').on(t.droppedAt.desc().nullsLast()).where(sql`${t.status} = 'dropped'`),
    check('versions_hash_hex', sql`${t.hash} ~ '^[0-9a-f]{64}$'`),
  ],
);

export type Procedure = typeof procedures.$inferSelect;
export type Version = typeof versions.$inferSelect;
export type VersionStatus = (typeof versionStatus.enumValues)[number];
