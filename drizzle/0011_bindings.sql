CREATE TABLE "procver"."binding_versions" (
	"binding_id" integer NOT NULL,
	"version_id" bigint NOT NULL,
	CONSTRAINT "binding_versions_binding_id_version_id_pk" PRIMARY KEY("binding_id","version_id")
);
--> statement-breakpoint
CREATE TABLE "procver"."bindings" (
	"id" serial PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"identity" text NOT NULL,
	"statements" text[] NOT NULL,
	"pushed_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"moved_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "bindings_identity" UNIQUE("identity")
);
--> statement-breakpoint
CREATE TABLE "procver"."entry_points" (
	"procedure_id" integer PRIMARY KEY NOT NULL,
	"version_id" bigint NOT NULL,
	"source" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"moved_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "procver"."procedure_properties" (
	"procedure_id" integer PRIMARY KEY NOT NULL,
	"properties" jsonb NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "procver"."binding_versions" ADD CONSTRAINT "binding_versions_binding_id_bindings_id_fk" FOREIGN KEY ("binding_id") REFERENCES "procver"."bindings"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "procver"."binding_versions" ADD CONSTRAINT "binding_versions_version_id_versions_id_fk" FOREIGN KEY ("version_id") REFERENCES "procver"."versions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "procver"."entry_points" ADD CONSTRAINT "entry_points_procedure_id_procedures_id_fk" FOREIGN KEY ("procedure_id") REFERENCES "procver"."procedures"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "procver"."entry_points" ADD CONSTRAINT "entry_points_version_id_versions_id_fk" FOREIGN KEY ("version_id") REFERENCES "procver"."versions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "procver"."procedure_properties" ADD CONSTRAINT "procedure_properties_procedure_id_procedures_id_fk" FOREIGN KEY ("procedure_id") REFERENCES "procver"."procedures"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "binding_versions_version" ON "procver"."binding_versions" USING btree ("version_id");--> statement-breakpoint
CREATE INDEX "entry_points_version" ON "procver"."entry_points" USING btree ("version_id");