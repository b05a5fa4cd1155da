import { bigint, index, integer, jsonb, primaryKey, serial, text, timestamp } from 'drizzle-orm/pg-core';
import { procver } from './procver';
import { procedures, versions } from './versions';

/**
 * What the sources say every version of a procedure carries besides its code (GRANT, REVOKE,
 * COMMENT, OWNER), in source order. Push compares it with what it applied last time: a change
 * brings every existing version in line.
 */
export const procedureProperties = procver.table('procedure_properties', {
  procedureId: integer('procedure_id')
    .primaryKey()
    .references(() => procedures.id),
  /** PropertyChange[] (lib/compile/statements.ts) */
  properties: jsonb('properties').notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/**
 * A trigger, event trigger, aggregate, operator or policy in the sources that calls managed
 * procedures. Push points it at the versions compiled from the same sources; those versions are
 * referenced (cleanup keeps them) until it moves on.
 */
export const bindings = procver.table('bindings', {
  id: serial('id').primaryKey(),
  kind: text('kind').notNull(),
  /** e.g. "trigger touch on app.items": unique */
  identity: text('identity').notNull().unique('bindings_identity'),
  /** the statements push ran last (with physical names) */
  statements: text('statements').array().notNull(),
  /**
   * Where push finds the object in the database (lib/compile/statements.ts BindingObject): the
   * catalog, the name parts its lookup takes, and the OID it had when push last saw it (found again
   * after a rename). NULL in rows recorded before procver stored them: such a binding is never
   * forgotten (push cannot tell whether it is still there) until a push of it records them.
   */
  objectCatalog: text('object_catalog'),
  objectName: text('object_name').array(),
  objectOid: bigint('object_oid', { mode: 'number' }),
  pushedBy: text('pushed_by').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  /** when it last moved to other versions */
  movedAt: timestamp('moved_at', { withTimezone: true }).notNull().defaultNow(),
});

export const bindingVersions = procver.table(
  'binding_versions',
  {
    bindingId: integer('binding_id')
      .notNull()
      .references(() => bindings.id, { onDelete: 'cascade' }),
    versionId: bigint('version_id', { mode: 'number' })
      .notNull()
      .references(() => versions.id),
  },
  (t) => [primaryKey({ columns: [t.bindingId, t.versionId] }), index('binding_versions_version').on(t.versionId)],
);

/**
 * A procedure kept under its logical name as a forwarder to one version, for callers procver
 * cannot rewrite. The version is referenced (cleanup keeps it) while the forwarder points at it.
 */
export const entryPoints = procver.table(
  'entry_points',
  {
    procedureId: integer('procedure_id')
      .primaryKey()
      .references(() => procedures.id),
    versionId: bigint('version_id', { mode: 'number' })
      .notNull()
      .references(() => versions.id),
    /** the forwarder as created */
    source: text('source').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    movedAt: timestamp('moved_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('entry_points_version').on(t.versionId)],
);

export type Binding = typeof bindings.$inferSelect;
