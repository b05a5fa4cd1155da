import { describe, expect, it } from 'vitest';
import { compileSources } from '../../lib/compile/compile';
import { SourceText } from '../../lib/compile/sourceText';
import { ProcverError } from '../../lib/errors';
import { compileFiles } from '../helpers/sources';

async function compileError(files: Record<string, string>, options: Parameters<typeof compileSources>[1] = {}): Promise<ProcverError> {
  try {
    await compileSources(
      Object.entries(files).map(([p, t]) => new SourceText(p, t)),
      options,
    );
  } catch (e) {
    if (e instanceof ProcverError) return e;
    throw e;
  }
  throw new Error('expected compile to fail');
}

const one = async (sql: string) => (await compileFiles({ 'a.sql': sql })).versions;
const byName = async (files: Record<string, string>, options: Parameters<typeof compileSources>[1] = {}) => {
  const r = await compileSources(
    Object.entries(files).map(([p, t]) => new SourceText(p, t)),
    options,
  );
  return { ...r, get: (name: string) => r.versions.find((v) => v.name === name)! };
};

describe('compile: everything PostgreSQL accepts in a definition', () => {
  it.each([
    ['NOT /* c */ LIKE', "SELECT 'a' NOT /* c */ LIKE 'b'"],
    ['NOT -- c IN', 'SELECT 1 NOT -- c\n IN (2)'],
    ['NULLS /* c */ FIRST', 'SELECT x FROM generate_series(1, 3) x ORDER BY 1 NULLS /* c */ FIRST LIMIT 1'],
    ['WITH /* c */ ORDINALITY', 'SELECT n::int FROM unnest(ARRAY[5]) WITH /* c */ ORDINALITY AS u(v, n)'],
    ["'a' -- c ⏎ 'b'", "SELECT 'hello, ' -- part one\n 'world'"],
  ])('accepts a comment between tokens: %s (SQL body, SQL-standard body, PL/pgSQL)', async (_what, select) => {
    const v = await one(`CREATE FUNCTION m.s() RETURNS text LANGUAGE sql AS $$ ${select} $$;
CREATE FUNCTION m.t() RETURNS text LANGUAGE sql BEGIN ATOMIC ${select}; END;
CREATE FUNCTION m.p() RETURNS text LANGUAGE plpgsql AS $$ BEGIN RETURN (${select}); END $$;`);
    expect(v).toHaveLength(3);
  });

  it('accepts a comment inside a type in the signature and keeps the comment in the created source', async () => {
    const [v] = await one('CREATE FUNCTION m.at(t timestamp WITH /* c */ TIME ZONE) RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;');
    expect(v!.args).toBe('timestamp with time zone');
    expect(v!.source).toContain('WITH /* c */ TIME ZONE');
  });

  it('refuses a C-style comment between continued string literals, as PostgreSQL does', async () => {
    const e = await compileError({ 'a.sql': "CREATE FUNCTION m.s() RETURNS text LANGUAGE sql AS $$ SELECT 'a' /* c */\n 'b' $$;" });
    expect(e.details).toEqual(['a.sql:2:2: in the function body: syntax error at or near "\'b\'"']);
  });

  it('accepts assignment to a field of a %ROWTYPE variable', async () => {
    const v = await one(`CREATE FUNCTION m.r(a integer) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE r m.t%ROWTYPE;
BEGIN
  r.x := a;
  RETURN r.x;
END $$;`);
    expect(v).toHaveLength(1);
  });

  it('points a PL/pgSQL error at its line inside the body', async () => {
    const e = await compileError({
      'p.sql': `CREATE FUNCTION m.p(a integer) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  n integer;
BEGIN
  n := a;
  missing := 2;
  RETURN n;
END $$;`,
    });
    expect(e.details).toEqual(['p.sql:6:3: in the PL/pgSQL body: "missing" is not a known variable']);
  });

  it('accepts an empty SQL body and an empty file, which PostgreSQL parses to no statements (PostgREST’s fixtures)', async () => {
    const r = await compileFiles({
      'a.sql': `CREATE FUNCTION test.ret_void() RETURNS void AS '' LANGUAGE sql;
CREATE PROCEDURE test.unsupported_proc() LANGUAGE SQL AS '';`,
      'empty.sql': '',
    });
    expect(r.versions.map((v) => [v.name, v.source.split('__')[1]!.slice(10)])).toEqual([
      ['ret_void', "() RETURNS void AS '' LANGUAGE sql"],
      ['unsupported_proc', "() LANGUAGE SQL AS ''"],
    ]);
  });

  it('skips psql meta-commands with a notice naming file:line', async () => {
    const r = await compileFiles({
      'm.sql': `\\set ON_ERROR_STOP on
CREATE FUNCTION m.one() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;
\\i other.sql
  \\connect app
CREATE FUNCTION m.two() RETURNS int LANGUAGE sql AS $$ SELECT 2 $$;`,
    });
    expect(r.versions.map((v) => v.name).sort()).toEqual(['one', 'two']);
    expect(r.notices).toEqual([
      'm.sql:1:1: skipped the psql meta-command \\set ON_ERROR_STOP on',
      'm.sql:3:1: skipped the psql meta-command \\i other.sql',
      'm.sql:4:3: skipped the psql meta-command \\connect app',
    ]);
  });
});

describe('compile: a pg_dump file with data', () => {
  it('skips the data psql sends to COPY … FROM stdin, up to \\., with a notice (graphile-worker’s schema dump)', async () => {
    const r = await compileSources(
      [
        new SourceText(
          'dump.sql',
          `CREATE FUNCTION m.one() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;
COPY m.notes (id, body) FROM stdin;
1\tit's $$ not -- SQL /*
2\t\\N
\\.
\\set ON_ERROR_STOP on
copy m.more FROM STDIN WITH (FORMAT csv);
"a, 'b'",it's
\\.
COPY m.notes TO stdout;
CREATE FUNCTION m.two() RETURNS int LANGUAGE sql AS $$ SELECT 2 $$;`,
        ),
      ],
      { skipOther: true },
    );
    expect(r.versions.map((v) => v.name)).toEqual(['one', 'two']);
    expect(r.notices).toEqual([
      'dump.sql:6:1: skipped the psql meta-command \\set ON_ERROR_STOP on',
      'dump.sql:3:1: skipped 2 line(s) of data for the COPY … FROM stdin before them',
      'dump.sql:8:1: skipped 1 line(s) of data for the COPY … FROM stdin before them',
    ]);
    expect(r.statements.skipped.map((s) => `${s.where} ${s.label}`)).toEqual(['dump.sql:2:1 COPY', 'dump.sql:7:1 COPY', 'dump.sql:10:1 COPY']);
  });
});

describe('compile: rewrites exactly the calls PostgreSQL sends to a managed function', () => {
  const audit = 'CREATE FUNCTION app.audit(v integer) RETURNS integer LANGUAGE sql AS $$ SELECT v $$;\n';

  it('leaves a CTE and a table alias with a column list named like a managed function alone', async () => {
    const r = await byName({
      'a.sql': `${audit}CREATE FUNCTION app.uses() RETURNS integer LANGUAGE sql AS $$
  WITH audit(v) AS (SELECT 1) SELECT audit.v + n + app.audit(2) FROM audit, (VALUES (1)) AS audit2(n)
$$;
CREATE FUNCTION app.uses2() RETURNS integer LANGUAGE plpgsql AS $$
BEGIN
  RETURN (WITH audit(v) AS (SELECT 1) SELECT sum(n) FROM audit, (VALUES (1)) AS audit(n));
END $$;`,
    });
    const a = r.get('audit').physicalName;
    expect(r.get('uses').source).toContain(`WITH audit(v) AS (SELECT 1) SELECT audit.v + n + app.${a}(2) FROM audit, (VALUES (1)) AS audit2(n)`);
    expect(r.get('uses2').callees).toEqual([]);
    expect(r.get('uses2').source).toContain('(VALUES (1)) AS audit(n)');
  });

  it('sends a call PostgreSQL resolves to a pg_catalog built-in to the built-in', async () => {
    const r = await byName(
      {
        'a.sql': `CREATE FUNCTION app.length(p point) RETURNS integer LANGUAGE sql AS $$ SELECT 1 $$;
CREATE FUNCTION app.f(t text, p point) RETURNS integer LANGUAGE sql AS $$ SELECT length(t) + length(p) + length('lit') $$;`,
      },
      { searchPath: ['app'] },
    );
    const len = r.get('length').physicalName;
    expect(r.get('f').source).toContain(`SELECT length(t) + app.${len}(p) + length('lit')`);
    expect(r.get('f').callees).toEqual([len]);
  });

  it('keeps the implicit alias and column name taken from the function name', async () => {
    const r = await byName({
      'a.sql': `CREATE FUNCTION app.stats() RETURNS TABLE (total integer) LANGUAGE sql AS $$ SELECT 1 $$;
${audit}CREATE FUNCTION app.report() RETURNS integer LANGUAGE sql AS $$
  SELECT stats.total + t.audit FROM app.stats(), (SELECT app.audit(1)) t
$$;
CREATE FUNCTION app.numbered() RETURNS bigint LANGUAGE sql AS $$ SELECT stats.ordinality FROM app.stats() WITH ORDINALITY $$;`,
    });
    const stats = r.get('stats').physicalName;
    const audit2 = r.get('audit').physicalName;
    expect(r.get('report').source).toContain(`FROM app.${stats}() AS stats, (SELECT app.${audit2}(1) AS audit) t`);
    expect(r.get('numbered').source).toContain(`FROM app.${stats}() WITH ORDINALITY AS stats`);
  });

  it('keeps the column name of a call under casts', async () => {
    const r = await byName({
      'a.sql': `${audit}CREATE FUNCTION app.casts() RETURNS SETOF text LANGUAGE sql AS $$
  SELECT app.audit(1)::bigint::text, CAST(app.audit(2) AS numeric(10, 2))::text FROM app.t
$$;`,
    });
    const a = r.get('audit').physicalName;
    expect(r.get('casts').source).toContain(`SELECT app.${a}(1)::bigint::text AS audit, CAST(app.${a}(2) AS numeric(10, 2))::text AS audit FROM app.t`);
    expect(r.warnings).toEqual([]);
  });

  it('rewrites calls in parameter DEFAULT expressions, and they are part of the hash', async () => {
    const files = {
      'a.sql': `CREATE FUNCTION app.four() RETURNS integer LANGUAGE sql AS $$ SELECT 4 $$;
CREATE FUNCTION app.f(x integer DEFAULT app.four()) RETURNS integer LANGUAGE sql AS $$ SELECT x $$;`,
    };
    const r = await byName(files);
    expect(r.get('f').source).toContain(`x integer DEFAULT app.${r.get('four').physicalName}()`);
    expect(r.get('f').callees).toEqual([r.get('four').physicalName]);
    const changed = await byName({ 'a.sql': files['a.sql'].replace('SELECT 4', 'SELECT 5') });
    expect(changed.get('f').hash).not.toBe(r.get('f').hash);
  });

  it('resolves unqualified names through the definition’s own SET search_path, else the given search path', async () => {
    const files = {
      'a.sql': `${audit}CREATE FUNCTION app.own() RETURNS integer LANGUAGE sql SET search_path = app AS $$ SELECT audit(1) $$;
CREATE FUNCTION app.plain() RETURNS integer LANGUAGE sql AS $$ SELECT audit(1) $$;`,
    };
    const byDefault = await byName(files);
    expect(byDefault.get('own').callees).toEqual([byDefault.get('audit').physicalName]);
    expect(byDefault.get('plain').callees).toEqual([]);
    expect(byDefault.warnings).toEqual([
      'a.sql:3:71: audit(…) is not on the search path (public), so it is not rewritten to app.audit; qualify the call, give the function SET search_path, or compile with --search-path',
    ]);
    const withPath = await byName(files, { searchPath: ['app', 'public'] });
    expect(withPath.get('plain').callees).toEqual([withPath.get('audit').physicalName]);
  });
});

describe('compile: overloads with the same argument count', () => {
  const diag = `CREATE FUNCTION t.diag(msg text) RETURNS text LANGUAGE sql AS $$ SELECT '# ' || msg $$;
CREATE FUNCTION t.diag(msg anyelement) RETURNS text LANGUAGE sql AS $$ SELECT '# ' || msg::text $$;
CREATE FUNCTION t.num(n integer) RETURNS text LANGUAGE sql AS $$ SELECT 'int' $$;
CREATE FUNCTION t.num(n numeric) RETURNS text LANGUAGE sql AS $$ SELECT 'numeric' $$;
`;
  const target = (r: Awaited<ReturnType<typeof byName>>, name: string, args: string) => r.versions.find((v) => v.name === name && v.args === args)!.physicalName;

  it('resolves by literal, cast, parameter, variable and named-argument types as PostgreSQL does', async () => {
    const r = await byName({
      'a.sql': `${diag}CREATE FUNCTION t.caller(p integer, q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE v numeric := 1.5;
BEGIN
  RETURN t.diag('literal') || t.diag(p) || t.diag(q) || t.diag(1.5::numeric) || t.num(1) || t.num(v) || t.num(2.5) || t.num(n => p) || t.num(p::bigint);
END $$;`,
    });
    const src = r.get('caller').source;
    const dText = target(r, 'diag', 'text');
    const dAny = target(r, 'diag', 'anyelement');
    const nInt = target(r, 'num', 'integer');
    const nNum = target(r, 'num', 'numeric');
    expect(src).toContain(
      `RETURN t.${dText}('literal') || t.${dAny}(p) || t.${dText}(q) || t.${dAny}(1.5::numeric) || t.${nInt}(1) || t.${nNum}(v) || t.${nNum}(2.5) || t.${nInt}(n => p) || t.${nNum}(p::bigint);`,
    );
  });

  it('refuses only a call whose types it cannot know, naming file:line and the candidates', async () => {
    const e = await compileError({
      'a.sql': `${diag}CREATE FUNCTION t.caller() RETURNS text LANGUAGE sql AS $$
  SELECT t.num(x) FROM t.things
$$;`,
    });
    expect(e.details).toEqual([
      'a.sql:6:10: call to t.num with 1 argument(s) could go to t.num(integer) or t.num(numeric): the type of argument 1 cannot be known before the call runs; cast it (e.g. t.num(x::integer)) or qualify the name',
    ]);
  });
});

describe('compile: hashes ignore spelling, not meaning', () => {
  const base = `CREATE FUNCTION app.f(a integer, b boolean, c timestamp with time zone, d character varying(10)) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE n integer := a;
BEGIN
  IF b THEN RETURN n::integer + length('x'); END IF;
  RETURN 0;
END
$$;`;
  const hash = async (sql: string) => (await one(sql))[0]!.hash;

  it.each([
    [
      'type aliases',
      base
        .replace('a integer', 'a int4')
        .replace('b boolean', 'b bool')
        .replace('c timestamp with time zone', 'c timestamptz')
        .replace('character varying(10)', 'varchar')
        .replace('n::integer', 'n::int4')
        .replace('n integer', 'n int'),
    ],
    [
      'explicit default attributes',
      base.replace('LANGUAGE plpgsql', 'LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT SECURITY INVOKER PARALLEL UNSAFE COST 100 NOT LEAKPROOF'),
    ],
    ['END; instead of END', base.replace('END\n$$', () => 'END;\n$$')],
    ['needless identifier quotes', base.replace('RETURN n::', 'RETURN "n"::').replace('IF b', 'IF "b"')],
    ['another string quoting', base.replace("length('x')", 'length($q$x$q$)')],
    ['an escape string', base.replace("length('x')", "length(E'x')")],
    ['a string continued over a comment line', base.replace("length('x')", "length(''  -- nothing\n 'x')")],
    ['IN written out', base.replace('(a integer', '(IN a integer')],
  ])('is the same with %s', async (_what, variant) => {
    expect(await hash(variant)).toBe(await hash(base));
  });

  it('is the same with a trailing ; in a SQL body, ROWS 1000 on a set-returning function and RETURNS record of OUT parameters', async () => {
    const sql = 'CREATE FUNCTION app.g(x integer) RETURNS SETOF integer LANGUAGE sql AS $$ SELECT x $$;';
    expect(await hash(sql.replace('SELECT x', 'SELECT x;').replace('LANGUAGE sql', 'LANGUAGE sql ROWS 1000'))).toBe(await hash(sql));
    const out = 'CREATE FUNCTION app.h(x integer, OUT a integer, OUT b integer) LANGUAGE sql AS $$ SELECT x, x $$;';
    expect(await hash(out.replace('LANGUAGE', 'RETURNS record LANGUAGE'))).toBe(await hash(out));
  });

  it.each([
    ['a string', base.replace("length('x')", "length('y')")],
    ['an escape that changes the value', base.replace("length('x')", "length(E'x\\\\n')")],
    ['a quoted identifier that needs quotes', base.replace('IF b', 'IF "B"')],
    ['the volatility', base.replace('LANGUAGE plpgsql', 'LANGUAGE plpgsql STABLE')],
    ['the cost', base.replace('LANGUAGE plpgsql', 'LANGUAGE plpgsql COST 5')],
    ['a cast type', base.replace('n::integer', 'n::bigint')],
  ])('changes with %s', async (_what, variant) => {
    expect(await hash(variant)).not.toBe(await hash(base));
  });

  it('records the hash scheme in the normalized definition', async () => {
    const [v] = await one(base);
    expect(JSON.parse(v!.normalized).hashScheme).toBe(2);
  });
});

describe('compile: dynamic SQL naming managed procedures', () => {
  const files = {
    'a.sql': `CREATE FUNCTION app.audit(v integer) RETURNS integer LANGUAGE sql AS $$ SELECT v $$;
CREATE FUNCTION app.create_parent(t text) RETURNS void LANGUAGE sql AS $$ SELECT $$;
CREATE FUNCTION app.dyn(s text) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE r integer;
BEGIN
  EXECUTE 'SELECT app.audit(7)' INTO r;
  EXECUTE format('SELECT %I.create_parent(%L)', s, 'x');
  EXECUTE 'SELECT 1' INTO r;
  RETURN r;
END $$;`,
  };

  it('warns with file:line where a string that reaches EXECUTE or format() names one', async () => {
    const r = await compileFiles(files);
    expect(r.warnings).toEqual([
      'a.sql:6:11: dynamic SQL calls app.audit, which exists only under versioned names: procver cannot rewrite a call inside a string, so it fails at run time (call it directly, or through an entry point)',
      'a.sql:7:18: dynamic SQL calls app.create_parent, which exists only under versioned names: procver cannot rewrite a call inside a string, so it fails at run time (call it directly, or through an entry point)',
    ]);
  });

  it('does not warn about a name every definition of which is an entry point, whose logical name exists (pgMemento’s init)', async () => {
    const r = await compileFiles({
      'a.sql': `-- procver:entry-point
CREATE FUNCTION app.init(s text) RETURNS integer LANGUAGE sql AS $$ SELECT 1 $$;
CREATE FUNCTION app.stop(s text) RETURNS integer LANGUAGE sql AS $$ SELECT 1 $$;
-- procver:entry-point
CREATE FUNCTION app.stop(s text, force boolean) RETURNS integer LANGUAGE sql AS $$ SELECT 2 $$;
CREATE FUNCTION app.setup(s text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE 'SELECT app.init(' || quote_literal(s) || ')';
  EXECUTE 'SELECT app.stop(' || quote_literal(s) || ')';
END $$;`,
    });
    expect(r.warnings.map((w) => w.slice(0, w.indexOf(','))).sort()).toEqual(['a.sql:9:11: dynamic SQL calls app.stop']);
  });

  it('warns where a body creates a trigger or event trigger executing a managed function (pgMemento’s event triggers)', async () => {
    const r = await compileFiles({
      'a.sql': `CREATE FUNCTION app.on_drop() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN END $$;
CREATE FUNCTION app.touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE FUNCTION app.install(t text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_event_trigger WHERE evtname = 'app_on_drop') THEN
    CREATE EVENT TRIGGER app_on_drop ON sql_drop
      EXECUTE PROCEDURE app.on_drop();
  END IF;
  CREATE TRIGGER touch BEFORE UPDATE ON app.items FOR EACH ROW EXECUTE FUNCTION app.touch();
END $$;
CREATE FUNCTION app.install_sql() RETURNS void LANGUAGE sql SET search_path = app AS $$
  CREATE TRIGGER touch2 BEFORE UPDATE ON app.items FOR EACH ROW EXECUTE FUNCTION touch()
$$;
CREATE FUNCTION app.install_other() RETURNS void LANGUAGE sql AS $$
  CREATE TRIGGER touch3 BEFORE UPDATE ON app.items FOR EACH ROW EXECUTE FUNCTION touch()
$$;`,
    });
    expect(r.warnings.map((w) => w.slice(0, w.indexOf(', which')))).toEqual([
      'a.sql:6:5: a trigger this body creates executes app.on_drop',
      'a.sql:9:3: a trigger this body creates executes app.touch',
      'a.sql:12:3: a trigger this body creates executes app.touch',
    ]);
  });

  it('makes them errors with strict', async () => {
    const e = await compileError(files, { strict: true });
    expect(e.details).toHaveLength(2);
    expect(e.details[0]).toMatch(/^a\.sql:6:11: dynamic SQL calls app\.audit, .*\(--strict\)$/);
  });
});

describe('compile: calls the corpus found missing', () => {
  it('rewrites CALL in PL/pgSQL and a call spelled in upper case', async () => {
    const r = await byName({
      'a.sql': `CREATE PROCEDURE app.bump(INOUT t integer) LANGUAGE plpgsql AS $$ BEGIN t := t + 1; END $$;
CREATE FUNCTION app.last_day(d date) RETURNS date LANGUAGE sql AS $$ SELECT d $$;
CREATE FUNCTION app.caller() RETURNS date LANGUAGE plpgsql AS $$
DECLARE v integer := 1;
BEGIN
  CALL app.bump(v);
  RETURN APP.LAST_DAY(current_date);
END $$;`,
    });
    const src = r.get('caller').source;
    expect(src).toContain(`CALL app.${r.get('bump').physicalName}(v);`);
    expect(src).toContain(`RETURN app.${r.get('last_day').physicalName}(current_date);`);
  });
});

describe('compile: PERFORM followed by a line break (pgMemento)', () => {
  it('finds and rewrites the calls of PERFORM⏎ and PERFORM with several spaces', async () => {
    const r = await byName({
      'a.sql': `CREATE FUNCTION app.drop_trigger(t text) RETURNS void LANGUAGE sql AS $$ SELECT $$;
CREATE FUNCTION app.drop_all(s text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM
    app.drop_trigger(tablename)
  FROM
    pg_tables
  WHERE
    schemaname = s;
  PERFORM  app.drop_trigger('x');
END $$;`,
    });
    const d = r.get('drop_trigger').physicalName;
    expect(r.get('drop_all').source).toContain(`PERFORM\n    app.${d}(tablename)\n  FROM`);
    expect(r.get('drop_all').source).toContain(`PERFORM  app.${d}('x');`);
  });
});

describe('compile: argument types pgTAP needs known', () => {
  it('knows ARRAY[…] of parameters, subscripts, arithmetic, managed results and array coercion', async () => {
    const r = await byName({
      'a.sql': `CREATE FUNCTION t._rexists(k character[], n name) RETURNS boolean LANGUAGE sql AS $$ SELECT true $$;
CREATE FUNCTION t._rexists(k character, n name) RETURNS boolean LANGUAGE sql AS $$ SELECT t._rexists(ARRAY[$1], $2) $$;
CREATE FUNCTION t._get(k text) RETURNS integer LANGUAGE sql AS $$ SELECT 1 $$;
CREATE FUNCTION t._set(k text, v integer) RETURNS integer LANGUAGE sql AS $$ SELECT v $$;
CREATE FUNCTION t._set(k integer, v integer) RETURNS integer LANGUAGE sql AS $$ SELECT v $$;
CREATE FUNCTION t._names(n text[]) RETURNS integer LANGUAGE sql AS $$ SELECT 1 $$;
CREATE FUNCTION t._names(n integer) RETURNS integer LANGUAGE sql AS $$ SELECT 2 $$;
CREATE FUNCTION t.caller(todos integer[], ns name[]) RETURNS integer LANGUAGE plpgsql AS $$
BEGIN
  PERFORM t._set('failed', t._get('failed') + 1);
  PERFORM t._set(todos[1], todos[2] - 1);
  RETURN t._names(ns);
END $$;`,
    });
    const phys = (name: string, args: string) => r.versions.find((v) => v.name === name && v.args === args)!.physicalName;
    expect(r.versions.find((v) => v.args === 'character, name')!.source).toContain(`t.${phys('_rexists', 'character[], name')}(ARRAY[$1], $2)`);
    const src = r.get('caller').source;
    expect(src).toContain(`PERFORM t.${phys('_set', 'text, integer')}('failed', t.${phys('_get', 'text')}('failed') + 1);`);
    expect(src).toContain(`PERFORM t.${phys('_set', 'integer, integer')}(todos[1], todos[2] - 1);`);
    expect(src).toContain(`RETURN t.${phys('_names', 'text[]')}(ns);`);
  });
});

describe('compile: a parameter qualified with the function’s name', () => {
  it('renames the qualifier with the function in SQL, SQL-standard and PL/pgSQL bodies (PostgREST’s get_line.id)', async () => {
    const r = await byName({
      'a.sql': `CREATE FUNCTION app.get_line(id integer) RETURNS text LANGUAGE sql AS $$ SELECT name FROM app.lines WHERE id = get_line.id $$;
CREATE FUNCTION app.std(id integer) RETURNS integer LANGUAGE sql BEGIN ATOMIC SELECT std.id + 1; END;
CREATE FUNCTION app.pl(id integer) RETURNS integer LANGUAGE plpgsql AS $$
BEGIN
  RETURN pl.id * 2;
END $$;
CREATE FUNCTION app.shadowed(id integer) RETURNS integer LANGUAGE sql AS $$ SELECT shadowed.id FROM app.lines shadowed $$;`,
    });
    const phys = (n: string) => r.get(n).physicalName;
    expect(r.get('get_line').source).toContain(`WHERE id = ${phys('get_line')}.id $$`);
    expect(r.get('std').source).toContain(`BEGIN ATOMIC SELECT ${phys('std')}.id + 1; END`);
    expect(r.get('pl').source).toContain(`RETURN ${phys('pl')}.id * 2;`);
    // A FROM item of that name: its column, as PostgreSQL reads it.
    expect(r.get('shadowed').source).toContain('SELECT shadowed.id FROM app.lines shadowed');
  });

  it('keeps the hash it had before the qualifier was renamed: only the created source changes', async () => {
    const [v] = await one('CREATE FUNCTION app.pl(id integer) RETURNS integer LANGUAGE plpgsql AS $$ BEGIN RETURN pl.id * 2; END $$;');
    expect(v!.hash).toBe('fb3edeec83cedff3d691b2d9dd825e1ff6a139e00610b979fc11396ec660487f');
    expect(v!.source).toBe('CREATE FUNCTION app.pl__fb3edeec83(id integer) RETURNS integer LANGUAGE plpgsql AS $$ BEGIN RETURN pl__fb3edeec83.id * 2; END $$');
  });
});

describe('compile: argument types from pg_catalog’s operators', () => {
  it('knows the result of a built-in operator as PostgreSQL picks it, and current_date (pgmq’s timestamptz + interval, PostgREST’s json #>> text[], date - date)', async () => {
    const r = await byName({
      'a.sql': `CREATE FUNCTION q.send(n text, delay integer) RETURNS integer LANGUAGE sql AS $$ SELECT 1 $$;
CREATE FUNCTION q.send(n text, delay timestamp with time zone) RETURNS integer LANGUAGE sql AS $$ SELECT 2 $$;
CREATE FUNCTION q.color(text) RETURNS integer LANGUAGE sql AS $$ SELECT 3 $$;
CREATE FUNCTION q.color(json) RETURNS integer LANGUAGE sql AS $$ SELECT q.color($1 #>> '{}') $$;
CREATE FUNCTION q.age(d date) RETURNS integer LANGUAGE sql AS $$ SELECT 4 $$;
CREATE FUNCTION q.age(d integer) RETURNS integer LANGUAGE sql AS $$ SELECT 5 $$;
CREATE FUNCTION q.caller(n text, delay integer, born date) RETURNS integer LANGUAGE sql AS $$
  SELECT q.send(n, clock_timestamp() + make_interval(secs => delay)) + q.age(current_date - born) + q.age(born + 1) + q.send(n, delay * 2)
$$;`,
    });
    const phys = (name: string, args: string) => r.versions.find((v) => v.name === name && v.args === args)!.physicalName;
    expect(r.versions.find((v) => v.args === 'json')!.source).toContain(`SELECT q.${phys('color', 'text')}($1 #>> '{}')`);
    expect(r.get('caller').source).toContain(
      `SELECT q.${phys('send', 'text, timestamp with time zone')}(n, clock_timestamp() + make_interval(secs => delay)) + q.${phys('age', 'integer')}(current_date - born) + q.${phys('age', 'date')}(born + 1) + q.${phys('send', 'text, integer')}(n, delay * 2)`,
    );
  });
});

describe('compile: the first operator rules stand where they answered', () => {
  it('keeps date - date typed as a date between two parameters, as hash scheme 2 first compiled it (PostgreSQL: integer), and takes pg_catalog’s answer with current_date', async () => {
    const r = await byName({
      'a.sql': `CREATE FUNCTION q.age(d date) RETURNS integer LANGUAGE sql AS $$ SELECT 4 $$;
CREATE FUNCTION q.age(d integer) RETURNS integer LANGUAGE sql AS $$ SELECT 5 $$;
CREATE FUNCTION q.caller(a date, b date) RETURNS integer LANGUAGE sql AS $$ SELECT q.age(a - b) + q.age(current_date - b) $$;`,
    });
    const phys = (args: string) => r.versions.find((v) => v.name === 'age' && v.args === args)!.physicalName;
    expect(r.get('caller').source).toContain(`SELECT q.${phys('date')}(a - b) + q.${phys('integer')}(current_date - b)`);
  });
});

describe('compile: a column that has a parameter’s name', () => {
  it('does not take the parameter’s type in a SQL function that reads tables (the column wins there)', async () => {
    const e = await compileError({
      'a.sql': `CREATE FUNCTION app.d(v integer) RETURNS text LANGUAGE sql AS $$ SELECT 'i' $$;
CREATE FUNCTION app.d(v text) RETURNS text LANGUAGE sql AS $$ SELECT 't' $$;
CREATE FUNCTION app.f(y integer) RETURNS text LANGUAGE sql AS $$ SELECT app.d(y) || app.d($1) FROM app.t $$;`,
    });
    expect(e.details).toEqual([
      'a.sql:3:73: call to app.d with 1 argument(s) could go to app.d(integer) or app.d(text): the type of argument 1 cannot be known before the call runs; cast it (e.g. app.d(x::integer)) or qualify the name',
    ]);
  });

  it('takes the parameter’s type in the arguments of the only FROM function, which see no columns (pgmq’s send overloads)', async () => {
    const sends = `CREATE FUNCTION q.send(n text, delay integer) RETURNS SETOF bigint LANGUAGE sql AS $$ SELECT 1::bigint $$;
CREATE FUNCTION q.send(n text, delay timestamp with time zone) RETURNS SETOF bigint LANGUAGE sql AS $$ SELECT 2::bigint $$;
`;
    const r = await byName({
      'a.sql': `${sends}CREATE FUNCTION q.send_at(n text, delay timestamp with time zone) RETURNS SETOF bigint LANGUAGE sql AS $$
  SELECT * FROM q.send(n, delay);
$$;`,
    });
    const at = r.versions.find((v) => v.name === 'send' && v.args === 'text, timestamp with time zone')!.physicalName;
    expect(r.get('send_at').source).toContain(`SELECT * FROM q.${at}(n, delay) AS send;`);
    // Beside a table (or a subquery in the arguments) the name may be a column: still refused.
    const e = await compileError({
      'a.sql': `${sends}CREATE FUNCTION q.send_each(n text, delay integer) RETURNS SETOF bigint LANGUAGE sql AS $$
  SELECT s FROM q.t, q.send(n, delay) s;
$$;
CREATE FUNCTION q.send_sub(n text, delay integer) RETURNS SETOF bigint LANGUAGE sql AS $$
  SELECT * FROM q.send(n, (SELECT delay FROM q.t));
$$;`,
    });
    expect(e.details.map((d) => d.slice(0, d.indexOf(': the type')))).toEqual([
      'a.sql:4:22: call to q.send with 2 argument(s) could go to q.send(text, integer) or q.send(text, timestamp with time zone)',
      'a.sql:7:17: call to q.send with 2 argument(s) could go to q.send(text, integer) or q.send(text, timestamp with time zone)',
    ]);
  });
});
