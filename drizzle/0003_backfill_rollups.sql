-- Registries created before the daily and per-procedure rollups existed: derive them from the
-- hourly rows, so the 7d/30d windows and the procedures list read the same history as before.
INSERT INTO "procver"."usage_daily" ("instance_id", "version_id", "day", "calls", "total_time", "self_time")
SELECT "instance_id", "version_id", ("hour" AT TIME ZONE 'UTC')::date, sum("calls"), sum("total_time"), sum("self_time")
FROM "procver"."usage_hourly"
GROUP BY 1, 2, 3;
--> statement-breakpoint
INSERT INTO "procver"."procedure_calls_hourly" ("procedure_id", "hour", "calls")
SELECT v."procedure_id", h."hour", sum(h."calls")
FROM "procver"."usage_hourly" h JOIN "procver"."versions" v ON v."id" = h."version_id"
GROUP BY 1, 2;
--> statement-breakpoint
INSERT INTO "procver"."procedure_calls_daily" ("procedure_id", "day", "calls")
SELECT v."procedure_id", (h."hour" AT TIME ZONE 'UTC')::date, sum(h."calls")
FROM "procver"."usage_hourly" h JOIN "procver"."versions" v ON v."id" = h."version_id"
GROUP BY 1, 2;
