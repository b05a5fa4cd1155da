CREATE TABLE "procver"."procedure_calls_daily" (
	"procedure_id" integer NOT NULL,
	"day" date NOT NULL,
	"calls" bigint NOT NULL,
	CONSTRAINT "procedure_calls_daily_procedure_id_day_pk" PRIMARY KEY("procedure_id","day")
);
--> statement-breakpoint
CREATE TABLE "procver"."procedure_calls_hourly" (
	"procedure_id" integer NOT NULL,
	"hour" timestamp with time zone NOT NULL,
	"calls" bigint NOT NULL,
	CONSTRAINT "procedure_calls_hourly_procedure_id_hour_pk" PRIMARY KEY("procedure_id","hour")
);
--> statement-breakpoint
CREATE TABLE "procver"."usage_daily" (
	"instance_id" integer NOT NULL,
	"version_id" bigint NOT NULL,
	"day" date NOT NULL,
	"calls" bigint NOT NULL,
	"total_time" double precision NOT NULL,
	"self_time" double precision NOT NULL,
	CONSTRAINT "usage_daily_version_id_day_instance_id_pk" PRIMARY KEY("version_id","day","instance_id")
);
--> statement-breakpoint
ALTER TABLE "procver"."procedure_calls_daily" ADD CONSTRAINT "procedure_calls_daily_procedure_id_procedures_id_fk" FOREIGN KEY ("procedure_id") REFERENCES "procver"."procedures"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "procver"."procedure_calls_hourly" ADD CONSTRAINT "procedure_calls_hourly_procedure_id_procedures_id_fk" FOREIGN KEY ("procedure_id") REFERENCES "procver"."procedures"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "procver"."usage_daily" ADD CONSTRAINT "usage_daily_instance_id_instances_id_fk" FOREIGN KEY ("instance_id") REFERENCES "procver"."instances"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "procver"."usage_daily" ADD CONSTRAINT "usage_daily_version_id_versions_id_fk" FOREIGN KEY ("version_id") REFERENCES "procver"."versions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "procedure_calls_daily_day" ON "procver"."procedure_calls_daily" USING btree ("day","procedure_id","calls");--> statement-breakpoint
CREATE INDEX "procedure_calls_hourly_hour" ON "procver"."procedure_calls_hourly" USING btree ("hour","procedure_id","calls");--> statement-breakpoint
CREATE INDEX "usage_daily_day" ON "procver"."usage_daily" USING btree ("day");--> statement-breakpoint
CREATE INDEX "usage_counters_version" ON "procver"."usage_counters" USING btree ("version_id");--> statement-breakpoint
CREATE INDEX "audit_log_action" ON "procver"."audit_log" USING btree ("action");