-- Registries that collected before the totals existed: every call so far is in the daily rollups,
-- which are kept for ever.
INSERT INTO "procver"."usage_totals" ("instance_id", "version_id", "calls", "total_time", "self_time")
SELECT "instance_id", "version_id", sum("calls"), sum("total_time"), sum("self_time")
FROM "procver"."usage_daily"
GROUP BY 1, 2;
