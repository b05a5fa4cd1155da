import { sql } from 'drizzle-orm';
import { bigint, index, jsonb, primaryKey, serial, text, timestamp, unique, uniqueIndex, integer } from 'drizzle-orm/pg-core';
import { procver } from './procver';
import { versions } from './versions';

export const deploymentStatus = procver.enum('deployment_status', ['pending', 'live', 'previous', 'archived']);

/** One build of one frontend app, with the manifest it was built against. */
export const deployments = procver.table(
  'deployments',
  {
    id: serial('id').primaryKey(),
    app: text('app').notNull(),
    deploymentId: text('deployment_id').notNull(),
    status: deploymentStatus('status').notNull().default('pending'),
    manifest: jsonb('manifest').notNull(),
    registeredBy: text('registered_by').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    /** when it last became live, and when it last stopped being live */
    liveAt: timestamp('live_at', { withTimezone: true }),
    supersededAt: timestamp('superseded_at', { withTimezone: true }),
    statusChangedAt: timestamp('status_changed_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    unique('deployments_app_id').on(t.app, t.deploymentId),
    // At most one live deployment per app, enforced by the database.
    uniqueIndex('deployments_one_live_per_app').on(t.app).where(sql`${t.status} = 'live'`),
  ],
);

export const deploymentVersions = procver.table(
  'deployment_versions',
  {
    deploymentId: integer('deployment_id')
      .notNull()
      .references(() => deployments.id, { onDelete: 'cascade' }),
    versionId: bigint('version_id', { mode: 'number' })
      .notNull()
      .references(() => versions.id),
  },
  (t) => [primaryKey({ columns: [t.deploymentId, t.versionId] }), index('deployment_versions_version').on(t.versionId)],
);

export type Deployment = typeof deployments.$inferSelect;
export type DeploymentStatus = (typeof deploymentStatus.enumValues)[number];
