CREATE TABLE "procver"."replica_barriers" (
	"instance_id" integer NOT NULL,
	"version_id" bigint NOT NULL,
	"replayed_at" timestamp with time zone NOT NULL,
	CONSTRAINT "replica_barriers_version_id_instance_id_pk" PRIMARY KEY("version_id","instance_id")
);
--> statement-breakpoint
ALTER TABLE "procver"."versions" ADD COLUMN "quarantine_barrier_lsn" "pg_lsn";--> statement-breakpoint
ALTER TABLE "procver"."replica_barriers" ADD CONSTRAINT "replica_barriers_instance_id_instances_id_fk" FOREIGN KEY ("instance_id") REFERENCES "procver"."instances"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "procver"."replica_barriers" ADD CONSTRAINT "replica_barriers_version_id_versions_id_fk" FOREIGN KEY ("version_id") REFERENCES "procver"."versions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
-- Quarantines made before this column: their rename committed long ago, so the WAL position now is
-- at or after its commit record (later only makes a replica's barrier later: more cautious).
UPDATE "procver"."versions" SET "quarantine_barrier_lsn" = pg_current_wal_insert_lsn() WHERE "quarantine_name" IS NOT NULL AND "status" = 'retired';
