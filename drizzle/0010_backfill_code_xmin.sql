-- Versions whose fingerprint was recorded before the xmin was: record the xmin of their pg_proc
-- row now, but only where the code still matches the fingerprint, so a version that has drifted
-- meanwhile keeps being compared (a NULL xmin never matches) and stays reported.
UPDATE "procver"."versions" v
SET "code_xmin" = p.xmin::text
FROM pg_namespace n, pg_proc p
WHERE v.status <> 'dropped' AND v.code_fingerprint IS NOT NULL AND n.nspname = v.schema AND p.pronamespace = n.oid
  AND p.proname = coalesce(v.quarantine_name, v.physical_name)
  AND (SELECT count(*) FROM pg_proc q WHERE q.pronamespace = n.oid AND q.proname = p.proname) = 1
  AND "procver"."code_fingerprint"(p.oid) = v.code_fingerprint;
