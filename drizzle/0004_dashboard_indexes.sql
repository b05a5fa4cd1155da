CREATE INDEX "versions_status_changed" ON "procver"."versions" USING btree ("status","status_changed_at","id");--> statement-breakpoint
CREATE INDEX "versions_procedure_created" ON "procver"."versions" USING btree ("procedure_id","created_at");--> statement-breakpoint
CREATE INDEX "versions_id_procedure_status" ON "procver"."versions" USING btree ("id","procedure_id","status");--> statement-breakpoint
CREATE INDEX "versions_dropped_at" ON "procver"."versions" USING btree ("dropped_at" DESC NULLS LAST) WHERE "procver"."versions"."status" = 'dropped';