ALTER TABLE "procver"."versions" ADD COLUMN "quarantine_barrier_at" timestamp with time zone;--> statement-breakpoint
-- Quarantines made before this column: their quarantined_at was written after the rename committed,
-- so it is their barrier.
UPDATE "procver"."versions" SET "quarantine_barrier_at" = "quarantined_at" WHERE "quarantine_name" IS NOT NULL;
