ALTER TABLE "procver"."bindings" ADD COLUMN "object_catalog" text;--> statement-breakpoint
ALTER TABLE "procver"."bindings" ADD COLUMN "object_name" text[];--> statement-breakpoint
ALTER TABLE "procver"."bindings" ADD COLUMN "object_oid" bigint;