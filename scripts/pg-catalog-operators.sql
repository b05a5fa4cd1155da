-- Regenerates lib/compile/pgCatalogOperators.json (one JSON array per row; group by name):
--   psql -At -f scripts/pg-catalog-operators.sql > rows.jsonl
-- then {name: [[left, right, result], …]} sorted, as the compiler reads it. Binary operators only.
SELECT DISTINCT json_build_array(o.oprname, format_type(o.oprleft, NULL), format_type(o.oprright, NULL), format_type(o.oprresult, NULL))::text
FROM pg_operator o WHERE o.oprnamespace = 'pg_catalog'::regnamespace AND o.oprkind = 'b';
