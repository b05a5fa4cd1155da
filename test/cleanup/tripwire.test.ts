import { sql } from 'drizzle-orm';
import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { signature } from '../../lib/cleanup/snapshot';
import { createTripwire, dropTripwire } from '../../lib/cleanup/tripwire';
import { createNamedTestRole, createTestDatabase, type TestDatabase } from '../helpers/db';

/**
 * The quarantine tripwire takes the version's old name: for every shape of function and procedure it
 * either returns exactly what the version returns (forwarding) or raises, and PostgreSQL counts
 * every call to it, including calls a STRICT function would skip and calls to an inlinable SQL one.
 */
describe('quarantine tripwire: every shape forwards (or raises) and is counted', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase();
    await createNamedTestRole('tw_reader_role');
    await t.pool.query('CREATE SCHEMA tw; CREATE TYPE tw.pair AS (a integer, b text)');
  });

  /** Renames `tw.<name>` to `<name>_q` and creates its tripwire, as the quarantine step does. */
  async function quarantine(name: string): Promise<{ forwards: boolean }> {
    return t.db.transaction(async (tx) => {
      const fn = (await signature(tx, 'tw', name))!;
      await tx.execute(sql.raw(`ALTER ROUTINE ${fn.sig} RENAME TO ${name}_q`));
      return createTripwire(tx, 'tw', name, `${name}_q`, fn.oid);
    });
  }

  /** Runs statements in one session, then reads the tripwire's counter after flushing it. */
  async function run(statements: string[], name: string) {
    const c = new pg.Client({ connectionString: t.url });
    await c.connect();
    const results: unknown[] = [];
    const errors: string[] = [];
    for (const s of statements) {
      try {
        results.push((await c.query(s)).rows);
      } catch (e) {
        errors.push((e as Error).message);
      }
    }
    await c.query('SELECT pg_stat_force_next_flush()');
    await c.end();
    const counted = await t.pool.query(`SELECT calls::int AS calls FROM pg_stat_user_functions WHERE schemaname = 'tw' AND funcname = $1`, [name]);
    return { results, errors, counted: counted.rows[0]?.calls ?? null };
  }

  const shapes: [string, string, string[]][] = [
    [
      'a default and named arguments',
      `CREATE FUNCTION tw.f1(a integer, b integer DEFAULT 10) RETURNS integer LANGUAGE plpgsql AS $$ BEGIN RETURN a * b; END $$`,
      ['SELECT tw.f1(2) AS r', 'SELECT tw.f1(b => 3, a => 2) AS r'],
    ],
    [
      'OUT parameters',
      `CREATE FUNCTION tw.f2(a integer, OUT x integer, OUT y text) LANGUAGE plpgsql AS $$ BEGIN x := a + 1; y := 'y' || a; END $$`,
      ['SELECT * FROM tw.f2(4)'],
    ],
    [
      'RETURNS TABLE',
      `CREATE FUNCTION tw.f3(n integer) RETURNS TABLE(i integer, s text) LANGUAGE sql AS $$ SELECT g, 's' || g FROM generate_series(1, n) g $$`,
      ['SELECT * FROM tw.f3(3)'],
    ],
    ['SETOF a scalar', `CREATE FUNCTION tw.f4(n integer) RETURNS SETOF integer LANGUAGE sql AS $$ SELECT generate_series(1, n) $$`, ['SELECT tw.f4(2) AS r']],
    ['SETOF a composite type', `CREATE FUNCTION tw.f5() RETURNS SETOF tw.pair LANGUAGE sql AS $$ VALUES (1, 'a'), (2, 'b') $$`, ['SELECT * FROM tw.f5()']],
    ['void', `CREATE FUNCTION tw.f6(a integer) RETURNS void LANGUAGE plpgsql AS $$ BEGIN PERFORM a; END $$`, ['SELECT tw.f6(1)::text AS r']],
    ['a polymorphic signature', `CREATE FUNCTION tw.f7(a anyelement) RETURNS anyelement LANGUAGE sql AS $$ SELECT a $$`, ["SELECT tw.f7(5) AS r, tw.f7('t'::text) AS s"]],
    [
      'VARIADIC',
      `CREATE FUNCTION tw.f8(VARIADIC xs integer[]) RETURNS integer LANGUAGE sql AS $$ SELECT sum(x)::int FROM unnest(xs) x $$`,
      ['SELECT tw.f8(1, 2, 3) AS r', 'SELECT tw.f8(VARIADIC ARRAY[4, 5]) AS r'],
    ],
    ['a procedure with INOUT', `CREATE PROCEDURE tw.f9(a integer, INOUT r integer) LANGUAGE plpgsql AS $$ BEGIN r := a * 100; END $$`, ['CALL tw.f9(3, NULL)']],
    [
      'an inlinable SQL function',
      `CREATE FUNCTION tw.f10(a integer) RETURNS integer LANGUAGE sql IMMUTABLE AS $$ SELECT a + 1 $$`,
      ['SELECT tw.f10(g) AS r FROM generate_series(1, 3) g'],
    ],
    [
      'a STRICT function called with NULL',
      `CREATE FUNCTION tw.f11(a integer) RETURNS integer LANGUAGE plpgsql STRICT AS $$ BEGIN RETURN a; END $$`,
      ['SELECT tw.f11(NULL) AS r'],
    ],
    [
      'a record result without OUT parameters',
      `CREATE FUNCTION tw.f12(a integer) RETURNS record LANGUAGE sql AS $$ SELECT a, 'r'::text $$`,
      ['SELECT * FROM tw.f12(7) AS (a integer, b text)'],
    ],
  ];

  it.each(shapes)('%s', async (_what, ddl, calls) => {
    await t.pool.query(ddl);
    const name = /tw\.(f\d+)\(/.exec(ddl)![1]!;
    const before = await run(calls, name);
    expect(before.errors).toEqual([]);
    expect(await quarantine(name)).toEqual({ forwards: true });
    const during = await run(calls, name);
    expect(during.errors).toEqual([]);
    expect(during.results).toEqual(before.results); // the caller cannot tell
    // One count per call: each name in the statements once, and the per-row call three times.
    const expected = calls.join(' ').split(`tw.${name}(`).length - 1 + (name === 'f10' ? 2 : 0);
    expect(during.counted).toBe(expected);
  });

  it('a shape no forwarder can serve (SETOF record, trigger) gets a tripwire that raises, and its failed calls are seen', async () => {
    await t.pool.query(`CREATE FUNCTION tw.g1() RETURNS SETOF record LANGUAGE sql AS $$ VALUES (1, 2) $$`);
    expect(await quarantine('g1')).toEqual({ forwards: false });
    const r = await run(['SELECT * FROM tw.g1() AS (a integer, b integer)'], 'g1');
    expect(r.errors).toEqual(['procver: tw.g1 is quarantined (retired, about to be dropped); restore it with procver restore']);
    expect(r.counted).toBe(0); // a row with calls = 0: called, and failed

    await t.pool.query(`CREATE FUNCTION tw.g2() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$`);
    expect(await quarantine('g2')).toEqual({ forwards: false });
  });

  it('keeps the owner and exactly who may execute it; SECURITY DEFINER stays on the version', async () => {
    await t.pool.query(`CREATE FUNCTION tw.h1() RETURNS text LANGUAGE sql SECURITY DEFINER AS $$ SELECT current_user::text $$`);
    await t.pool.query(`REVOKE ALL ON FUNCTION tw.h1() FROM PUBLIC; GRANT EXECUTE ON FUNCTION tw.h1() TO tw_reader_role; GRANT USAGE ON SCHEMA tw TO tw_reader_role`);
    await createNamedTestRole('tw_owner_role');
    await t.pool.query(`ALTER FUNCTION tw.h1() OWNER TO tw_owner_role`);
    await quarantine('h1');
    const p = await t.pool.query(
      `SELECT p.proname, pg_get_userbyid(p.proowner) AS owner, p.prosecdef, array(SELECT a.grantee::regrole::text FROM aclexplode(p.proacl) a ORDER BY 1) AS grantees
       FROM pg_proc p WHERE p.proname IN ('h1', 'h1_q') ORDER BY 1`,
    );
    expect(p.rows).toEqual([
      { proname: 'h1', owner: 'tw_owner_role', prosecdef: false, grantees: ['tw_owner_role', 'tw_reader_role'] },
      { proname: 'h1_q', owner: 'tw_owner_role', prosecdef: true, grantees: ['tw_owner_role', 'tw_reader_role'] },
    ]);
    const c = new pg.Client({ connectionString: t.url });
    await c.connect();
    await c.query('SET ROLE tw_reader_role');
    expect((await c.query('SELECT tw.h1() AS who')).rows).toEqual([{ who: 'tw_owner_role' }]);
    await c.query('RESET ROLE');
    await c.end();
  });

  it('is dropped only when it is procver’s tripwire', async () => {
    await t.pool.query(`CREATE FUNCTION tw.k1() RETURNS integer LANGUAGE sql AS $$ SELECT 1 $$`);
    await expect(t.db.transaction((tx) => dropTripwire(tx, 'tw', 'k1'))).rejects.toThrow(
      "tw.k1() is in the database under the quarantined version's name and is not procver's tripwire; rename or drop it first",
    );
    await quarantine('k1');
    await t.db.transaction((tx) => dropTripwire(tx, 'tw', 'k1'));
    expect((await t.pool.query(`SELECT proname FROM pg_proc WHERE proname LIKE 'k1%' ORDER BY 1`)).rows).toEqual([{ proname: 'k1_q' }]);
  });
});
