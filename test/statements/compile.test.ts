import { describe, expect, it } from 'vitest';
import { compileSources } from '../../lib/compile/compile';
import { SourceText } from '../../lib/compile/sourceText';
import { ProcverError } from '../../lib/errors';

const compile = (files: Record<string, string>, options: Parameters<typeof compileSources>[1] = {}) =>
  compileSources(
    Object.entries(files).map(([p, t]) => new SourceText(p, t)),
    options,
  );

async function failure(files: Record<string, string>, options: Parameters<typeof compileSources>[1] = {}): Promise<string[]> {
  const e = await compile(files, options).catch((x: unknown) => x);
  expect(e).toBeInstanceOf(ProcverError);
  return (e as ProcverError).details ?? [];
}

const touch = `CREATE FUNCTION app.touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.updated_at := now(); RETURN NEW; END $$;\n`;

const others = [
  'CREATE TABLE app.items (id int)',
  'CREATE UNIQUE INDEX items_id ON app.items (id)',
  'CREATE VIEW app.v AS SELECT 1',
  "CREATE TYPE app.mood AS ENUM ('ok')",
  'CREATE TYPE app.pair AS (a int, b int)',
  'CREATE DOMAIN app.pos AS int CHECK (VALUE > 0)',
  'CREATE SEQUENCE app.s',
  'CREATE MATERIALIZED VIEW app.m AS SELECT 1',
  'ALTER TABLE app.items ADD COLUMN n int',
  'CREATE EXTENSION IF NOT EXISTS pgcrypto',
  'CREATE TRIGGER t BEFORE UPDATE ON app.items FOR EACH ROW EXECUTE FUNCTION app.unmanaged()',
  'CREATE AGGREGATE app.s2(int) (sfunc = int4pl, stype = int)',
  'GRANT SELECT ON app.items TO PUBLIC',
  'GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA app TO PUBLIC',
  'GRANT EXECUTE ON FUNCTION app.unmanaged() TO PUBLIC',
  "COMMENT ON TABLE app.items IS 'x'",
  'INSERT INTO app.items VALUES (1)',
  "SELECT pg_catalog.set_config('search_path', '', false)",
  'DROP FUNCTION IF EXISTS app.old(int)',
  'CREATE PUBLICATION pub FOR ALL TABLES',
  'CREATE SERVER files FOREIGN DATA WRAPPER file_fdw',
  'LISTEN app_events',
];
const labels = [
  'CREATE TABLE',
  'CREATE INDEX',
  'CREATE VIEW',
  'CREATE TYPE',
  'CREATE TYPE',
  'CREATE DOMAIN',
  'CREATE SEQUENCE',
  'CREATE MATERIALIZED VIEW',
  'ALTER TABLE',
  'CREATE EXTENSION',
  'CREATE TRIGGER',
  'CREATE AGGREGATE',
  'GRANT … ON TABLE',
  'GRANT … ON ALL FUNCTIONS IN SCHEMA',
  'GRANT … ON FUNCTION',
  'COMMENT ON TABLE',
  'INSERT',
  'SELECT',
  'DROP FUNCTION',
  'CREATE PUBLICATION',
  'CREATE SERVER',
  'LISTEN',
];

describe('compile: statements that are not functions', () => {
  it('refuses each one by default with file:line and the statement in words', async () => {
    const details = await failure({ 'm.sql': touch + others.map((s) => `${s};`).join('\n') });
    const managedFn = new Set(['CREATE TRIGGER', 'CREATE AGGREGATE', 'GRANT … ON FUNCTION']);
    expect(details).toEqual(
      labels.map(
        (l, i) =>
          `m.sql:${i + 2}:1: ${l} is not managed by procver${
            managedFn.has(l) ? ': it names no procedure defined in these sources' : ''
          }; it belongs to your migration tool (pass --skip-other to skip such statements)`,
      ),
    );
  });

  it('with skipOther lists each skipped statement once and compiles the functions', async () => {
    const r = await compile({ 'm.sql': touch + others.map((s) => `${s};`).join('\n') }, { skipOther: true });
    expect(r.versions.map((v) => v.name)).toEqual(['touch']);
    expect(r.statements.skipped).toEqual(labels.map((label, i) => ({ where: `m.sql:${i + 2}:1`, label })));
  });

  it('skips BEGIN, COMMIT and SET without asking, with one notice', async () => {
    const r = await compile({ 'm.sql': `BEGIN;\nSET search_path = app;\nSET lock_timeout = '1s';\n${touch}COMMIT;\n` });
    expect(r.statements.skipped).toEqual([]);
    expect(r.statements.notices).toEqual([
      'skipped BEGIN, SET ×2, COMMIT: push runs in its own transaction and settings do not carry over; unqualified names use the schema public',
    ]);
  });
  it('refuses an unqualified definition after SET search_path to another schema', async () => {
    const details = await failure({ 's.sql': `SET search_path = app, public;\nCREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;\n${touch}` });
    expect(details).toEqual([
      's.sql:2:1: f is not schema-qualified and follows SET search_path = app (s.sql:1:1), which push does not run: it would be created in public; qualify it or pass --schema app',
    ]);
    const r = await compile({ 's.sql': `SET search_path = app, public;\nCREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;\n` }, { defaultSchema: 'app' });
    expect(r.versions.map((v) => `${v.schema}.${v.name}`)).toEqual(['app.f']);
  });

  it('names each unqualified definition once, after the SET search_path in effect there, and none after a SET back to the default schema (a pg_dump file switches it often)', async () => {
    const fn = (n: string) => `CREATE FUNCTION ${n}() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;\n`;
    const details = await failure({
      's.sql': `SET search_path = app, pg_catalog;\n${fn('a')}SET search_path = other, pg_catalog;\n${fn('b')}SET search_path = public, pg_catalog;\n${fn('c')}${touch}`,
    });
    expect(details).toEqual([
      's.sql:2:1: a is not schema-qualified and follows SET search_path = app (s.sql:1:1), which push does not run: it would be created in public; qualify it or pass --schema app',
      's.sql:4:1: b is not schema-qualified and follows SET search_path = other (s.sql:3:1), which push does not run: it would be created in public; qualify it or pass --schema other',
    ]);
  });

  it('refuses a trigger or policy on an unqualified table, or an unqualified aggregate, after SET search_path to another schema (PostgREST’s pg_dump-shaped triggers)', async () => {
    const details = await failure({
      's.sql': `${touch.trimEnd()} CREATE FUNCTION app.add(s numeric, v numeric) RETURNS numeric LANGUAGE sql AS $$ SELECT s + v $$;
SET search_path = app, pg_catalog;
CREATE TRIGGER items_touch BEFORE UPDATE ON items FOR EACH ROW EXECUTE FUNCTION app.touch();
CREATE TRIGGER other_touch BEFORE UPDATE ON app.other FOR EACH ROW EXECUTE FUNCTION app.touch();
CREATE AGGREGATE total(numeric) (sfunc = app.add, stype = numeric);
SET search_path = public;
CREATE TRIGGER public_touch BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION app.touch();
`,
    });
    expect(details).toEqual([
      's.sql:3:1: the table items of trigger items_touch is not schema-qualified and follows SET search_path = app (s.sql:2:1), which push does not run: it would be looked up in public; qualify it or pass --schema app',
      's.sql:5:1: total is not schema-qualified and follows SET search_path = app (s.sql:2:1), which push does not run: it would be created in public; qualify it or pass --schema app',
    ]);
  });
});

describe('compile: properties and bindings', () => {
  const fns =
    touch +
    'CREATE FUNCTION app.add_price(state numeric, price numeric) RETURNS numeric LANGUAGE sql IMMUTABLE AS $$ SELECT state + price $$;\n' +
    'CREATE FUNCTION app.item_count() RETURNS bigint LANGUAGE sql STABLE AS $$ SELECT 42::bigint $$;\n';

  it('reads GRANT, REVOKE, COMMENT and OWNER on managed procedures as properties, outside the hash', async () => {
    const plain = await compile({ 'a.sql': fns });
    const withProps = await compile({
      'a.sql':
        fns +
        "GRANT EXECUTE ON FUNCTION app.item_count() TO app_reader, \"Report Users\" WITH GRANT OPTION;\nREVOKE ALL ON FUNCTION app.item_count FROM PUBLIC;\nCOMMENT ON FUNCTION app.item_count() IS 'How many items; it''s cached';\nALTER FUNCTION app.item_count() OWNER TO app_owner;\n",
    });
    expect(withProps.versions.map((v) => v.hash)).toEqual(plain.versions.map((v) => v.hash));
    expect(withProps.statements.properties).toEqual([
      {
        procedure: 'app.item_count()',
        change: { kind: 'grant', privilege: 'EXECUTE', grantees: ['app_reader', '"Report Users"'], grantOption: true, cascade: false },
        where: 'a.sql:4:1',
      },
      { procedure: 'app.item_count()', change: { kind: 'revoke', privilege: 'ALL', grantees: ['PUBLIC'], grantOption: false, cascade: false }, where: 'a.sql:5:1' },
      { procedure: 'app.item_count()', change: { kind: 'comment', comment: "How many items; it's cached" }, where: 'a.sql:6:1' },
      { procedure: 'app.item_count()', change: { kind: 'owner', role: 'app_owner' }, where: 'a.sql:7:1' },
    ]);
  });

  it('rewrites triggers, aggregates, event triggers, policies and operators to the compiled versions', async () => {
    const r = await compile(
      {
        'a.sql':
          fns +
          'CREATE FUNCTION app.ddl_log() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN END $$;\n' +
          'CREATE FUNCTION app.may_see(owner text) RETURNS boolean LANGUAGE sql AS $$ SELECT owner = current_user $$;\n' +
          'CREATE FUNCTION app.near(a int, b int) RETURNS boolean LANGUAGE sql AS $$ SELECT abs(a - b) < 2 $$;\n' +
          'CREATE TRIGGER items_touch BEFORE UPDATE ON app.items FOR EACH ROW EXECUTE FUNCTION app.touch();\n' +
          "CREATE AGGREGATE app.total_price(numeric) (sfunc = add_price, stype = numeric, initcond = '0');\n" +
          'CREATE EVENT TRIGGER log_ddl ON ddl_command_end EXECUTE FUNCTION app.ddl_log();\n' +
          'CREATE POLICY own ON app.items USING (app.may_see(owner));\n' +
          'CREATE OPERATOR app.~~~ (function = app.near, leftarg = int, rightarg = int);\n',
      },
      { defaultSchema: 'app' },
    );
    const phys = (n: string) => `app.${r.versions.find((v) => v.name === n)!.physicalName}`;
    expect(r.statements.bindings.map((b) => [b.identity, b.versions, b.statements, b.where])).toEqual([
      [
        'trigger items_touch on app.items',
        [phys('touch')],
        [`CREATE OR REPLACE TRIGGER items_touch BEFORE UPDATE ON app.items FOR EACH ROW EXECUTE FUNCTION ${phys('touch')}()`],
        'a.sql:7:1',
      ],
      [
        'aggregate app.total_price(numeric)',
        [phys('add_price')],
        [`CREATE OR REPLACE AGGREGATE app.total_price(numeric) (sfunc = ${phys('add_price')}, stype = numeric, initcond = '0')`],
        'a.sql:8:1',
      ],
      [
        'event trigger log_ddl',
        [phys('ddl_log')],
        ['DROP EVENT TRIGGER IF EXISTS log_ddl', `CREATE EVENT TRIGGER log_ddl ON ddl_command_end EXECUTE FUNCTION ${phys('ddl_log')}()`],
        'a.sql:9:1',
      ],
      [
        'policy own on app.items',
        [phys('may_see')],
        ['DROP POLICY IF EXISTS own ON app.items', `CREATE POLICY own ON app.items USING (${phys('may_see')}(owner))`],
        'a.sql:10:1',
      ],
      [
        'operator app.~~~(integer, integer)',
        [phys('near')],
        ['DROP OPERATOR IF EXISTS app.~~~ (integer, integer)', `CREATE OPERATOR app.~~~ (function = ${phys('near')}, leftarg = int, rightarg = int)`],
        'a.sql:11:1',
      ],
    ]);
  });

  it('takes the aggregate support function overload PostgreSQL looks up, by the state and argument types (PostgREST’s geo2json_trans)', async () => {
    const trans = (next: string, body: string) => `CREATE FUNCTION app.trans(state jsonb, next ${next}) RETURNS jsonb LANGUAGE sql AS $$ SELECT ${body} $$;\n`;
    const r = await compile(
      {
        'a.sql':
          trans('anyelement', 'state || to_jsonb(next)') +
          trans('app.items', "'[]'::jsonb") +
          "CREATE AGGREGATE app.agg_any(anyelement) (initcond = '[]', stype = jsonb, sfunc = trans);\n" +
          "CREATE AGGREGATE app.agg_items(app.items) (initcond = '[]', stype = jsonb, sfunc = app.trans, combinefunc = jsonb_concat);\n",
      },
      { defaultSchema: 'app' },
    );
    const phys = (next: string) => `app.${r.versions.find((v) => v.args === `jsonb, ${next}`)!.physicalName}`;
    expect(r.statements.bindings.map((b) => [b.identity, b.versions])).toEqual([
      ['aggregate app.agg_any(anyelement)', [phys('anyelement')]],
      ['aggregate app.agg_items(app.items)', [phys('app.items')]],
    ]);
    // Neither taking (jsonb, integer): PostgreSQL would resolve the call at run time; procver asks.
    const details = await failure({
      'a.sql': trans('anyelement', 'state') + trans('app.items', 'state') + 'CREATE AGGREGATE app.agg_int(integer) (stype = jsonb, sfunc = app.trans);\n',
    });
    expect(details).toEqual([
      'a.sql:3:1: CREATE AGGREGATE: app.trans is ambiguous between managed overloads app.trans(jsonb, anyelement) and app.trans(jsonb, app.items); declare the one it means with exactly (jsonb, integer) (the types PostgreSQL looks it up with), or give the overloads different names',
    ]);
  });

  it('names the statement when a reference is ambiguous, and refuses a duplicate binding', async () => {
    const details = await failure({
      'a.sql':
        touch +
        'CREATE FUNCTION app.f(a int) RETURNS int LANGUAGE sql AS $$ SELECT a $$;\nCREATE FUNCTION app.f(a text) RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;\n' +
        'GRANT EXECUTE ON FUNCTION app.f TO x;\n' +
        'CREATE TRIGGER t BEFORE UPDATE ON app.items FOR EACH ROW EXECUTE FUNCTION app.touch();\nCREATE TRIGGER t BEFORE INSERT ON app.items FOR EACH ROW EXECUTE FUNCTION app.touch();\n',
    });
    expect(details).toEqual([
      'a.sql:4:1: GRANT … ON FUNCTION: app.f is ambiguous between managed overloads app.f(integer) and app.f(text); name its argument types, as in FUNCTION f(integer)',
      'a.sql:6:1: duplicate trigger t on app.items; first defined at a.sql:5:1',
    ]);
  });

  it('reads ALTER … ENABLE/DISABLE TRIGGER on a trigger of the sources as its firing state, set after each create', async () => {
    const r = await compile(
      {
        'a.sql':
          touch +
          'CREATE FUNCTION app.ddl_log() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN END $$;\n' +
          'ALTER TABLE items DISABLE TRIGGER items_touch;\n' +
          'CREATE TRIGGER items_touch BEFORE UPDATE ON app.items FOR EACH ROW EXECUTE FUNCTION app.touch();\n' +
          'CREATE TRIGGER "Orders touch" BEFORE UPDATE ON app.orders FOR EACH ROW EXECUTE FUNCTION app.touch();\n' +
          'ALTER TABLE ONLY app.orders ENABLE REPLICA TRIGGER "Orders touch";\n' +
          'CREATE TRIGGER notes_touch BEFORE UPDATE ON app.notes FOR EACH ROW EXECUTE FUNCTION app.touch();\n' +
          'ALTER TABLE app.notes ENABLE TRIGGER notes_touch;\n' +
          'CREATE EVENT TRIGGER log_ddl ON ddl_command_end EXECUTE FUNCTION app.ddl_log();\n' +
          'ALTER EVENT TRIGGER log_ddl ENABLE ALWAYS;\n',
      },
      { defaultSchema: 'app' },
    );
    const phys = (n: string) => `app.${r.versions.find((v) => v.name === n)!.physicalName}`;
    expect(r.statements.skipped).toEqual([]);
    expect(r.statements.bindings.map((b) => [b.identity, b.statements])).toEqual([
      [
        'trigger items_touch on app.items',
        [
          `CREATE OR REPLACE TRIGGER items_touch BEFORE UPDATE ON app.items FOR EACH ROW EXECUTE FUNCTION ${phys('touch')}()`,
          'ALTER TABLE app.items DISABLE TRIGGER items_touch',
        ],
      ],
      [
        'trigger Orders touch on app.orders',
        [
          `CREATE OR REPLACE TRIGGER "Orders touch" BEFORE UPDATE ON app.orders FOR EACH ROW EXECUTE FUNCTION ${phys('touch')}()`,
          'ALTER TABLE ONLY app.orders ENABLE REPLICA TRIGGER "Orders touch"',
        ],
      ],
      // ENABLE is what CREATE gives: nothing to add.
      ['trigger notes_touch on app.notes', [`CREATE OR REPLACE TRIGGER notes_touch BEFORE UPDATE ON app.notes FOR EACH ROW EXECUTE FUNCTION ${phys('touch')}()`]],
      [
        'event trigger log_ddl',
        [
          'DROP EVENT TRIGGER IF EXISTS log_ddl',
          `CREATE EVENT TRIGGER log_ddl ON ddl_command_end EXECUTE FUNCTION ${phys('ddl_log')}()`,
          'ALTER EVENT TRIGGER log_ddl ENABLE ALWAYS',
        ],
      ],
    ]);
    expect(r.statements.bindings[0]!.declaredState).toBe('D');
    expect(r.statements.bindings[0]!.probe.state).toBe(
      "SELECT tgenabled::text FROM pg_trigger WHERE oid = (SELECT oid FROM pg_trigger WHERE tgrelid = to_regclass('app.items') AND tgname = 'items_touch')",
    );
  });

  it("refuses an ALTER … TRIGGER naming triggers of the sources and others, or declaring a trigger's state twice; one naming none is the migration tool's", async () => {
    const sources = {
      'a.sql':
        touch +
        'CREATE TRIGGER items_touch BEFORE UPDATE ON app.items FOR EACH ROW EXECUTE FUNCTION app.touch();\n' +
        'ALTER TABLE app.items DISABLE TRIGGER items_touch, DISABLE TRIGGER items_legacy;\n' +
        'ALTER TABLE app.items DISABLE TRIGGER items_touch;\n' +
        'ALTER TABLE app.items ENABLE ALWAYS TRIGGER items_touch;\n' +
        'ALTER TABLE app.items DISABLE TRIGGER items_legacy;\n' +
        'ALTER TABLE app.items DISABLE TRIGGER ALL;\n' +
        'ALTER EVENT TRIGGER unmanaged DISABLE;\n',
    };
    expect(await failure(sources)).toEqual([
      'a.sql:3:1: ALTER TABLE: names triggers of these sources and others (trigger items_legacy on app.items); split it into one statement per trigger',
      'a.sql:5:1: ALTER TABLE: the firing state of trigger items_touch on app.items is declared twice; first at a.sql:4:1',
      'a.sql:6:1: ALTER TABLE is not managed by procver: it names no trigger defined in these sources; it belongs to your migration tool (pass --skip-other to skip such statements)',
      'a.sql:7:1: ALTER TABLE is not managed by procver; it belongs to your migration tool (pass --skip-other to skip such statements)',
      'a.sql:8:1: ALTER EVENT TRIGGER is not managed by procver: it names no trigger defined in these sources; it belongs to your migration tool (pass --skip-other to skip such statements)',
    ]);
  });

  it('marks entry points by a directive comment or the options', async () => {
    const r = await compile(
      { 'a.sql': `${fns}-- procver:entry-point\nCREATE FUNCTION app.audit(n int) RETURNS int LANGUAGE sql AS $$ SELECT n $$;\n` },
      { entryPoints: ['app.item_count'] },
    );
    expect(r.statements.entryPoints).toEqual(['app.audit(integer)', 'app.item_count()']);
    const details = await failure({ 'a.sql': fns }, { entryPoints: ['app.nope'] });
    expect(details).toEqual(['entry points setting: app.nope names no procedure in these sources']);
  });
});
