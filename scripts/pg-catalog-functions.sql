-- Regenerates lib/compile/pgCatalogFunctions.json (one JSON array per row; group by name):
--   psql -At -f scripts/pg-catalog-functions.sql > rows.jsonl
-- then {name: [[args, variadic, defaults, result], …]} sorted, as the compiler reads it.
SELECT DISTINCT json_build_array(p.proname,
  (SELECT coalesce(json_agg(format_type(t, NULL) ORDER BY o), '[]'::json) FROM unnest(p.proargtypes::oid[]) WITH ORDINALITY u(t, o)),
  (p.provariadic <> 0)::int, p.pronargdefaults,
  CASE WHEN p.proretset THEN 'setof ' ELSE '' END || format_type(p.prorettype, NULL))::text
FROM pg_proc p WHERE p.pronamespace = 'pg_catalog'::regnamespace;
