-- What procver compares to notice drift (someone ran CREATE OR REPLACE or ALTER on a hashed name):
-- every pg_proc property that makes up a function's code, and nothing that is not code (its name,
-- so a quarantine rename is no drift; owner, grants, comment; the OID). Types, defaults and
-- BEGIN ATOMIC bodies are deparsed with search_path pinned to pg_catalog, so the text does not
-- depend on the caller's search_path.
CREATE FUNCTION "procver"."code_fingerprint"(fn oid) RETURNS text
LANGUAGE sql STABLE STRICT
SET search_path = pg_catalog
AS $$
  SELECT encode(sha256(convert_to(json_build_array(
    p.prokind, l.lanname, p.prosrc, p.probin,
    pg_get_function_arguments(p.oid), pg_get_function_result(p.oid),
    p.prosecdef, p.proleakproof, p.proisstrict, p.proretset, p.provolatile, p.proparallel,
    p.procost, p.prorows, p.proconfig, p.prosupport::regproc::text,
    (SELECT array_agg(format_type(t, NULL) ORDER BY ord) FROM unnest(p.protrftypes) WITH ORDINALITY AS x(t, ord)),
    CASE WHEN p.prosqlbody IS NOT NULL THEN pg_get_function_sqlbody(p.oid) END
  )::text, 'UTF8')), 'hex')
  FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
  WHERE p.oid = fn
$$;
--> statement-breakpoint
-- Versions created before procver recorded fingerprints: their code now is the baseline.
UPDATE "procver"."versions" v
SET "code_fingerprint" = "procver"."code_fingerprint"(p.oid)
FROM pg_namespace n, pg_proc p
WHERE v.status <> 'dropped' AND n.nspname = v.schema AND p.pronamespace = n.oid
  AND p.proname = coalesce(v.quarantine_name, v.physical_name)
  AND (SELECT count(*) FROM pg_proc q WHERE q.pronamespace = n.oid AND q.proname = p.proname) = 1;
