-- Custom SQL migration file, put your code below! --
-- The audit log is append-only and hash-chained. drizzle's schema DSL cannot express triggers,
-- so this migration was created with `drizzle-kit generate --custom` and written here.

-- The hash of one entry: sha256 over a JSON array (unambiguous field boundaries) of the previous
-- hash and the entry's content; time as epoch text so the session's TimeZone cannot change it.
CREATE FUNCTION procver.audit_entry_hash(prev text, e procver.audit_log) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT encode(sha256(convert_to(json_build_array(
    prev, e.seq, e.id, extract(epoch FROM e.at)::text, e.actor, e.action, e.target_type, e.target, e.reason, e.before, e.after
  )::text, 'UTF8')), 'hex')
$$;

-- Inserts are serialized by a transaction-level lock so each entry links to the one committed
-- before it, with a gap-free sequence (a deleted row shows as a missing seq).
CREATE FUNCTION procver.audit_chain() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  last_seq bigint;
  last_hash text;
BEGIN
  PERFORM pg_advisory_xact_lock(1635083369); -- 'audi'
  SELECT seq, hash INTO last_seq, last_hash FROM procver.audit_log WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1;
  NEW.seq := coalesce(last_seq, 0) + 1;
  NEW.prev_hash := last_hash;
  NEW.hash := procver.audit_entry_hash(NEW.prev_hash, NEW);
  RETURN NEW;
END
$$;

CREATE TRIGGER audit_chain BEFORE INSERT ON procver.audit_log FOR EACH ROW EXECUTE FUNCTION procver.audit_chain();

CREATE FUNCTION procver.audit_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'procver.audit_log is append-only: % is not allowed', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER audit_no_update_delete BEFORE UPDATE OR DELETE ON procver.audit_log FOR EACH ROW EXECUTE FUNCTION procver.audit_append_only();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON procver.audit_log FOR EACH STATEMENT EXECUTE FUNCTION procver.audit_append_only();
