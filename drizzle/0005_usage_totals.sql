CREATE TABLE "procver"."usage_totals" (
	"instance_id" integer NOT NULL,
	"version_id" bigint NOT NULL,
	"calls" bigint NOT NULL,
	"total_time" double precision NOT NULL,
	"self_time" double precision NOT NULL,
	CONSTRAINT "usage_totals_version_id_instance_id_pk" PRIMARY KEY("version_id","instance_id")
);
--> statement-breakpoint
ALTER TABLE "procver"."usage_totals" ADD CONSTRAINT "usage_totals_instance_id_instances_id_fk" FOREIGN KEY ("instance_id") REFERENCES "procver"."instances"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "procver"."usage_totals" ADD CONSTRAINT "usage_totals_version_id_versions_id_fk" FOREIGN KEY ("version_id") REFERENCES "procver"."versions"("id") ON DELETE no action ON UPDATE no action;