/** Tables and types the typed-client fixture's functions use (not managed by procver). */
export const clientSetupSql = `
CREATE SCHEMA app;
CREATE TYPE app.mood AS ENUM ('happy', 'sad');
CREATE DOMAIN app.positive AS integer CHECK (VALUE > 0);
CREATE TABLE app.items (id integer PRIMARY KEY, label text NOT NULL, mood app.mood NOT NULL, weight numeric NOT NULL);
INSERT INTO app.items VALUES (1, 'one', 'happy', 1.5), (2, 'two', 'sad', 2.25);
CREATE TABLE app.log (note text);
`;

/** One function or procedure per result shape and argument kind the client supports. */
export const clientSources: Record<string, string> = {
  'scalars.sql': `
CREATE FUNCTION app.add(a integer, b integer DEFAULT 10) RETURNS integer LANGUAGE sql IMMUTABLE AS $$ SELECT a + b $$;
CREATE FUNCTION app.big(n bigint) RETURNS bigint LANGUAGE sql IMMUTABLE AS $$ SELECT n * 2 $$;
CREATE FUNCTION app.ratio(n numeric) RETURNS numeric LANGUAGE sql IMMUTABLE AS $$ SELECT n / 4 $$;
CREATE FUNCTION app.next_day(d date) RETURNS date LANGUAGE sql IMMUTABLE AS $$ SELECT d + 1 $$;
CREATE FUNCTION app.stamp(t timestamptz) RETURNS timestamptz LANGUAGE sql IMMUTABLE AS $$ SELECT t + interval '1 hour' $$;
CREATE FUNCTION app.echo_json(doc jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$ SELECT doc $$;
CREATE FUNCTION app.tags(n integer) RETURNS text[] LANGUAGE sql IMMUTABLE AS $$ SELECT ARRAY['t' || n, NULL] $$;
CREATE FUNCTION app.total(VARIADIC nums integer[]) RETURNS integer LANGUAGE sql IMMUTABLE AS $$ SELECT sum(x)::int FROM unnest(nums) x $$;
CREATE FUNCTION app.nothing() RETURNS void LANGUAGE sql AS $$ SELECT $$;
CREATE FUNCTION app.describe(x integer) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT 'integer ' || x $$;
CREATE FUNCTION app.describe(x text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT 'text ' || x $$;
CREATE FUNCTION app.padded(c character(3), b bit(3)) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT c || '/' || b::text $$;
CREATE FUNCTION app.first_of(items anyarray) RETURNS anyelement LANGUAGE sql IMMUTABLE AS $$ SELECT items[1] $$;
CREATE FUNCTION app.numbers(n integer) RETURNS SETOF integer LANGUAGE sql IMMUTABLE AS $$ SELECT generate_series(1, n) $$;
`,
  'rows.sql': `
CREATE FUNCTION app.item(p_id integer) RETURNS app.items LANGUAGE sql STABLE AS $$ SELECT * FROM app.items WHERE id = p_id $$;
CREATE FUNCTION app.all_items() RETURNS SETOF app.items LANGUAGE sql STABLE AS $$ SELECT * FROM app.items ORDER BY id $$;
CREATE FUNCTION app.item_labels(p_min integer) RETURNS TABLE (id integer, label text) LANGUAGE sql STABLE
  AS $$ SELECT id, label FROM app.items WHERE id >= p_min ORDER BY id $$;
CREATE FUNCTION app.bounds(OUT lo integer, OUT hi integer) LANGUAGE sql STABLE AS $$ SELECT min(id), max(id) FROM app.items $$;
CREATE FUNCTION app.count_items(OUT n bigint) LANGUAGE sql STABLE AS $$ SELECT count(*) FROM app.items $$;
CREATE FUNCTION app.mood_of(p_id integer) RETURNS app.mood LANGUAGE sql STABLE AS $$ SELECT mood FROM app.items WHERE id = p_id $$;
CREATE FUNCTION app.double_positive(p app.positive) RETURNS app.positive LANGUAGE sql IMMUTABLE AS $$ SELECT (p * 2)::app.positive $$;
CREATE PROCEDURE app.note(p_text text, INOUT p_count integer, OUT p_echo text) LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO app.log VALUES (p_text);
  p_count := p_count + 1;
  p_echo := upper(p_text);
END $$;
CREATE PROCEDURE app.clear_log() LANGUAGE sql AS $$ DELETE FROM app.log $$;
`,
};
