ALTER TABLE "procver"."versions" ADD COLUMN "code_fingerprint" text;--> statement-breakpoint
ALTER TABLE "procver"."versions" ADD COLUMN "code_xmin" text;