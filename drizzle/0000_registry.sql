CREATE SCHEMA "procver";
--> statement-breakpoint
CREATE TYPE "procver"."procedure_kind" AS ENUM('function', 'procedure');--> statement-breakpoint
CREATE TYPE "procver"."version_status" AS ENUM('live', 'retired', 'dropped');--> statement-breakpoint
CREATE TYPE "procver"."deployment_status" AS ENUM('pending', 'live', 'previous', 'archived');--> statement-breakpoint
CREATE TYPE "procver"."user_role" AS ENUM('viewer', 'operator', 'admin');--> statement-breakpoint
CREATE TABLE "procver"."procedures" (
	"id" serial PRIMARY KEY NOT NULL,
	"schema" text NOT NULL,
	"name" text NOT NULL,
	"args" text NOT NULL,
	"kind" "procver"."procedure_kind" NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "procedures_identity" UNIQUE("schema","name","args")
);
--> statement-breakpoint
CREATE TABLE "procver"."versions" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"procedure_id" integer NOT NULL,
	"hash" text NOT NULL,
	"schema" text NOT NULL,
	"physical_name" text NOT NULL,
	"language" text NOT NULL,
	"source" text NOT NULL,
	"normalized" text NOT NULL,
	"callees" text[] DEFAULT '{}'::text[] NOT NULL,
	"may_be_inlined" boolean DEFAULT false NOT NULL,
	"status" "procver"."version_status" DEFAULT 'live' NOT NULL,
	"oid" bigint,
	"pushed_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"status_changed_at" timestamp with time zone DEFAULT now() NOT NULL,
	"revision" integer DEFAULT 1 NOT NULL,
	"quarantine_name" text,
	"quarantined_at" timestamp with time zone,
	"drop_snapshot" jsonb,
	"dropped_at" timestamp with time zone,
	CONSTRAINT "versions_procedure_hash" UNIQUE("procedure_id","hash"),
	CONSTRAINT "versions_physical_name" UNIQUE("schema","physical_name"),
	CONSTRAINT "versions_hash_hex" CHECK ("procver"."versions"."hash" ~ '^[0-9a-f]{64}$')
);
--> statement-breakpoint
CREATE TABLE "procver"."deployment_versions" (
	"deployment_id" integer NOT NULL,
	"version_id" bigint NOT NULL,
	CONSTRAINT "deployment_versions_deployment_id_version_id_pk" PRIMARY KEY("deployment_id","version_id")
);
--> statement-breakpoint
CREATE TABLE "procver"."deployments" (
	"id" serial PRIMARY KEY NOT NULL,
	"app" text NOT NULL,
	"deployment_id" text NOT NULL,
	"status" "procver"."deployment_status" DEFAULT 'pending' NOT NULL,
	"manifest" jsonb NOT NULL,
	"registered_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"live_at" timestamp with time zone,
	"superseded_at" timestamp with time zone,
	"status_changed_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "deployments_app_id" UNIQUE("app","deployment_id")
);
--> statement-breakpoint
CREATE TABLE "procver"."deployment_sightings" (
	"instance_id" integer NOT NULL,
	"app" text NOT NULL,
	"deployment_id" text NOT NULL,
	"connections" integer NOT NULL,
	"last_seen_at" timestamp with time zone NOT NULL,
	CONSTRAINT "deployment_sightings_app_deployment_id_instance_id_pk" PRIMARY KEY("app","deployment_id","instance_id")
);
--> statement-breakpoint
CREATE TABLE "procver"."instances" (
	"id" serial PRIMARY KEY NOT NULL,
	"label" text NOT NULL,
	"system_identifier" text,
	"host" text NOT NULL,
	"port" integer NOT NULL,
	"role" text NOT NULL,
	"first_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_attempt_at" timestamp with time zone,
	"first_collected_at" timestamp with time zone,
	"last_collected_at" timestamp with time zone,
	"last_error" text,
	"postmaster_start_time" timestamp with time zone,
	"stats_reset" timestamp with time zone,
	"track_functions" text,
	CONSTRAINT "instances_label" UNIQUE("label")
);
--> statement-breakpoint
CREATE TABLE "procver"."usage_counters" (
	"instance_id" integer NOT NULL,
	"version_id" bigint NOT NULL,
	"oid" bigint NOT NULL,
	"calls" bigint NOT NULL,
	"total_time" double precision NOT NULL,
	"self_time" double precision NOT NULL,
	"sampled_at" timestamp with time zone NOT NULL,
	"first_seen_at" timestamp with time zone NOT NULL,
	"last_called_at" timestamp with time zone,
	CONSTRAINT "usage_counters_instance_id_version_id_pk" PRIMARY KEY("instance_id","version_id")
);
--> statement-breakpoint
CREATE TABLE "procver"."usage_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"instance_id" integer NOT NULL,
	"version_id" bigint,
	"kind" text NOT NULL,
	"from_at" timestamp with time zone NOT NULL,
	"to_at" timestamp with time zone NOT NULL,
	"detail" jsonb,
	"resolved" boolean DEFAULT false NOT NULL
);
--> statement-breakpoint
CREATE TABLE "procver"."usage_hourly" (
	"instance_id" integer NOT NULL,
	"version_id" bigint NOT NULL,
	"hour" timestamp with time zone NOT NULL,
	"calls" bigint NOT NULL,
	"total_time" double precision NOT NULL,
	"self_time" double precision NOT NULL,
	CONSTRAINT "usage_hourly_version_id_hour_instance_id_pk" PRIMARY KEY("version_id","hour","instance_id")
);
--> statement-breakpoint
CREATE TABLE "procver"."usage_samples" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"instance_id" integer NOT NULL,
	"version_id" bigint NOT NULL,
	"sampled_at" timestamp with time zone NOT NULL,
	"calls" bigint NOT NULL,
	"total_time" double precision NOT NULL,
	"self_time" double precision NOT NULL,
	"calls_delta" bigint
);
--> statement-breakpoint
CREATE TABLE "procver"."audit_log" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"actor" text NOT NULL,
	"action" text NOT NULL,
	"target_type" text NOT NULL,
	"target" text NOT NULL,
	"reason" text,
	"before" jsonb,
	"after" jsonb,
	"seq" bigint,
	"prev_hash" text,
	"hash" text
);
--> statement-breakpoint
CREATE TABLE "procver"."sessions" (
	"token_hash" text PRIMARY KEY NOT NULL,
	"user_id" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"last_seen_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "procver"."sign_in_failures" (
	"id" serial PRIMARY KEY NOT NULL,
	"email" text NOT NULL,
	"client" text NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "procver"."users" (
	"id" serial PRIMARY KEY NOT NULL,
	"email" text NOT NULL,
	"name" text NOT NULL,
	"role" "procver"."user_role" NOT NULL,
	"password_hash" text,
	"disabled_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "users_email_unique" UNIQUE("email")
);
--> statement-breakpoint
ALTER TABLE "procver"."versions" ADD CONSTRAINT "versions_procedure_id_procedures_id_fk" FOREIGN KEY ("procedure_id") REFERENCES "procver"."procedures"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "procver"."deployment_versions" ADD CONSTRAINT "deployment_versions_deployment_id_deployments_id_fk" FOREIGN KEY ("deployment_id") REFERENCES "procver"."deployments"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "procver"."deployment_versions" ADD CONSTRAINT "deployment_versions_version_id_versions_id_fk" FOREIGN KEY ("version_id") REFERENCES "procver"."versions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "procver"."deployment_sightings" ADD CONSTRAINT "deployment_sightings_instance_id_instances_id_fk" FOREIGN KEY ("instance_id") REFERENCES "procver"."instances"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "procver"."usage_counters" ADD CONSTRAINT "usage_counters_instance_id_instances_id_fk" FOREIGN KEY ("instance_id") REFERENCES "procver"."instances"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "procver"."usage_counters" ADD CONSTRAINT "usage_counters_version_id_versions_id_fk" FOREIGN KEY ("version_id") REFERENCES "procver"."versions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "procver"."usage_events" ADD CONSTRAINT "usage_events_instance_id_instances_id_fk" FOREIGN KEY ("instance_id") REFERENCES "procver"."instances"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "procver"."usage_events" ADD CONSTRAINT "usage_events_version_id_versions_id_fk" FOREIGN KEY ("version_id") REFERENCES "procver"."versions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "procver"."usage_hourly" ADD CONSTRAINT "usage_hourly_instance_id_instances_id_fk" FOREIGN KEY ("instance_id") REFERENCES "procver"."instances"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "procver"."usage_hourly" ADD CONSTRAINT "usage_hourly_version_id_versions_id_fk" FOREIGN KEY ("version_id") REFERENCES "procver"."versions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "procver"."usage_samples" ADD CONSTRAINT "usage_samples_instance_id_instances_id_fk" FOREIGN KEY ("instance_id") REFERENCES "procver"."instances"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "procver"."usage_samples" ADD CONSTRAINT "usage_samples_version_id_versions_id_fk" FOREIGN KEY ("version_id") REFERENCES "procver"."versions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "procver"."sessions" ADD CONSTRAINT "sessions_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "procver"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "versions_status" ON "procver"."versions" USING btree ("status");--> statement-breakpoint
CREATE INDEX "deployment_versions_version" ON "procver"."deployment_versions" USING btree ("version_id");--> statement-breakpoint
CREATE UNIQUE INDEX "deployments_one_live_per_app" ON "procver"."deployments" USING btree ("app") WHERE "procver"."deployments"."status" = 'live';--> statement-breakpoint
CREATE INDEX "usage_events_instance_time" ON "procver"."usage_events" USING btree ("instance_id","to_at");--> statement-breakpoint
CREATE INDEX "usage_events_version" ON "procver"."usage_events" USING btree ("version_id");--> statement-breakpoint
CREATE INDEX "usage_hourly_hour" ON "procver"."usage_hourly" USING btree ("hour");--> statement-breakpoint
CREATE INDEX "usage_samples_version_time" ON "procver"."usage_samples" USING btree ("version_id","sampled_at");--> statement-breakpoint
CREATE INDEX "usage_samples_time" ON "procver"."usage_samples" USING btree ("sampled_at");--> statement-breakpoint
CREATE INDEX "audit_log_at" ON "procver"."audit_log" USING btree ("at");--> statement-breakpoint
CREATE INDEX "audit_log_target" ON "procver"."audit_log" USING btree ("target_type","target");--> statement-breakpoint
CREATE INDEX "audit_log_seq" ON "procver"."audit_log" USING btree ("seq");--> statement-breakpoint
CREATE INDEX "sessions_user" ON "procver"."sessions" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "sign_in_failures_email" ON "procver"."sign_in_failures" USING btree ("email","at");--> statement-breakpoint
CREATE INDEX "sign_in_failures_client" ON "procver"."sign_in_failures" USING btree ("client","at");